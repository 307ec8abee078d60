"""Imports of GIS files as they really arrive: one importer class per format behind one interface (base.py),
a pipeline that previews then commits in one transaction (pipeline.py), Vietnamese legacy encodings
(encodings.py) and coordinate systems (crs.py)."""
