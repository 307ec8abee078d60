"""Exports of any layer, filtered, to GeoJSON, GeoPackage, zipped Shapefile, CSV, KML and XLSX, in WGS84 or
VN-2000 / TM-3 (EPSG:5899): one exporter class per format behind one interface (base.py); rows come from
layers.query (so permissions apply exactly as in the APIs) in keyset-paged batches (rows.py)."""
