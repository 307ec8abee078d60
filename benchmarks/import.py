"""Import speed: our pipeline vs `ogr2ogr -f PostgreSQL` (COPY mode) vs a raw `COPY` of the same rows.

    .venv/bin/python benchmarks/import.py [--rows 200000] [--repeat 1]

Generates a cadastral-like file of N parcels (20 m squares in VN-2000 / TM-3 107-45, EPSG:5899, with
Vietnamese owner names) as a GeoPackage and a zipped Shapefile, then loads each into PostGIS, reprojected
to WGS84 as MultiPolygons with a GiST index, three ways:

- ours (new layer): `layers.importers.pipeline.run_import(target="new:…")` — COPY into staging, then
  ST_Transform/ST_MakeValid/commune assignment/validation in SQL, table + catalog entry;
- ours (land parcels): the same file mapped onto `layers.LandParcel` (value checks, uniqueness, commune);
- peer: `ogr2ogr -f PostgreSQL --config PG_USE_COPY YES -t_srs EPSG:4326 -nlt PROMOTE_TO_MULTI`;
- limit: `COPY` of the same rows, already reprojected (hex EWKB prepared before timing), + GiST index.

It runs against its own database `gis_ioc_bench` on the project's cluster (created and migrated on first
use, with the demo communes for commune assignment), never the main one.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks.common import database_url, db_parts  # noqa: E402

BENCH_DB = "gis_ioc_bench"


def bench_url() -> str:
    main = database_url()
    return main.rsplit("/", 1)[0] + "/" + BENCH_DB


def ensure_database() -> None:
    """Create and migrate gis_ioc_bench (once), with the demo district's communes."""
    import psycopg

    with psycopg.connect(database_url(), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [BENCH_DB]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{BENCH_DB}"')
    env = {**os.environ, "DATABASE_URL": bench_url()}
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            "from gis_ioc.demo.district import district_loaded, load_district\n"
            "load_district() if not district_loaded() else None",
        ],
        cwd=ROOT,
        env=env,
        check=True,
    )


def make_files(rows: int, folder: Path) -> tuple[Path, Path, Path]:
    """The GeoPackage, the zipped Shapefile and the raw-COPY CSV (WGS84 hex EWKB) of N parcels."""
    import geopandas as gpd
    import numpy as np
    import pyogrio
    import shapely

    gpkg, shz, csv = folder / "thua.gpkg", folder / "thua.zip", folder / "thua.csv"
    if gpkg.exists() and shz.exists() and csv.exists():
        return gpkg, shz, csv
    import psycopg

    # Parcels on a 25 m grid, kept where they fall inside the district's current communes (so that every
    # parcel gets a commune, as in a real cadastral file), spread evenly over the district.
    with psycopg.connect(bench_url()) as conn:
        wkb = conn.execute(
            "SELECT ST_AsBinary(ST_Transform(ST_Union(ST_PointOnSurface(geom)::geometry), 5899)), "
            "ST_AsBinary(ST_Transform(ST_Buffer(ST_Union(geom), -0.0005), 5899)) FROM gis_ioc_adminunit "
            "WHERE level = 'commune' AND valid_to IS NULL"
        ).fetchone()[1]
    area = shapely.from_wkb(bytes(wkb))
    shapely.prepare(area)
    xmin, ymin, xmax, ymax = area.bounds
    gx, gy = np.meshgrid(np.arange(xmin, xmax, 25.0), np.arange(ymin, ymax, 25.0))
    inside = shapely.contains_xy(area, gx.ravel(), gy.ravel())
    px, py = gx.ravel()[inside], gy.ravel()[inside]
    if len(px) < rows:
        raise SystemExit(f"the district holds only {len(px)} 25 m cells")
    pick = np.linspace(0, len(px) - 1, rows).astype(int)
    xs, ys = px[pick], py[pick]
    i = np.arange(rows)
    geoms = shapely.box(xs, ys, xs + 20, ys + 20)
    owners = np.array(["Nguyễn Văn Đức", "Trần Thị Hường", "Lê Quốc Việt", "Phạm Thị Ánh", "K'Điểu"])
    uses = np.array(["LUC", "ONT", "CLN", "BHK", "RSX"])
    gdf = gpd.GeoDataFrame(
        {
            "SHBANDO": i // 1000 + 1,
            "SOTHUA": i % 1000 + 1,
            "DIENTICH": np.full(rows, 400.0),
            "MDSD": uses[i % 5],
            "CHUSD": owners[i % 5],
        },
        geometry=geoms,
        crs=5899,
    )
    pyogrio.write_dataframe(gdf, gpkg, layer="thua", driver="GPKG")
    shp = folder / "shp"
    shp.mkdir(exist_ok=True)
    pyogrio.write_dataframe(gdf, shp / "thua.shp", encoding="UTF-8")
    with zipfile.ZipFile(shz, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(shp.iterdir()):
            zf.write(p, p.name)
    wgs = gdf.to_crs(4326).geometry.apply(lambda g: shapely.MultiPolygon([g]))
    ewkb = shapely.to_wkb(wgs.values, hex=True, include_srid=False)
    out = gdf.drop(columns="geometry").assign(geom=["SRID=4326;" + h for h in ewkb])
    out.to_csv(csv, index=False, header=False)
    return gpkg, shz, csv


def timed(fn) -> float:  # noqa: ANN001 - a zero-argument callable
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def run_ours(path: Path, target: str, mapping: dict[str, str] | None = None) -> None:
    from layers.importers.base import ImportOptions
    from layers.importers.pipeline import run_import

    report = run_import(path, path.name, ImportOptions(target=target, mapping=mapping or {}))
    assert report["inserted"] > 0 and report["rejected"] == 0, report  # noqa: S101


def cleanup_ours() -> None:
    from django.db import connection

    from layers.models import LandParcel, Layer

    with connection.cursor() as cur:
        for layer in Layer.objects.filter(slug__startswith="bench-"):
            cur.execute(f'DROP TABLE IF EXISTS "{layer.source_table}"')
            layer.delete()
    # TRUNCATE, not DELETE: dead tuples and bloated indexes would slow every later run.
    cur = connection.cursor()
    cur.execute(f"TRUNCATE {LandParcel._meta.db_table} CASCADE")
    cur.close()


def run_ogr2ogr(path: Path) -> None:
    p = db_parts(bench_url())
    pg = f"PG:host={p['host']} port={p['port']} dbname={p['dbname']} user={p['user']} password={p['password']}"
    src = f"/vsizip/{path}" if path.suffix == ".zip" else str(path)
    subprocess.run(
        [
            "ogr2ogr",
            "-f",
            "PostgreSQL",
            pg,
            src,
            "-nln",
            "bench_ogr",
            "-overwrite",
            "-t_srs",
            "EPSG:4326",
            "-nlt",
            "PROMOTE_TO_MULTI",
            "-lco",
            "GEOMETRY_NAME=geom",
            "-lco",
            "SPATIAL_INDEX=GIST",
            "--config",
            "PG_USE_COPY",
            "YES",
        ],
        check=True,
        capture_output=True,
    )


def run_copy(csv: Path) -> None:
    import psycopg

    with psycopg.connect(bench_url()) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_copy")
        conn.execute(
            "CREATE TABLE bench_copy (id bigserial PRIMARY KEY, shbando bigint, sothua bigint, "
            "dientich double precision, mdsd text, chusd text, geom geometry(MultiPolygon, 4326))"
        )
        with (
            conn.cursor() as cur,
            cur.copy(
                "COPY bench_copy (shbando, sothua, dientich, mdsd, chusd, geom) FROM STDIN WITH (FORMAT csv)"
            ) as copy,
            open(csv, "rb") as fh,
        ):
            while chunk := fh.read(1 << 20):
                copy.write(chunk)
        conn.execute("CREATE INDEX ON bench_copy USING gist (geom)")


def drop_peers() -> None:
    import psycopg

    with psycopg.connect(bench_url(), autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_ogr, bench_copy")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=1, help="runs per tool; the best is kept")
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "ioc-import-bench")
    args = parser.parse_args()

    ensure_database()
    os.environ["DATABASE_URL"] = bench_url()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gis_ioc.settings")
    import django

    django.setup()
    folder = args.data / str(args.rows)
    folder.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    gpkg, shz, csv = make_files(args.rows, folder)
    print(f"data: {args.rows:,} parcels in {folder} (made in {time.perf_counter() - t:.1f} s)", file=sys.stderr)

    mapping = {"sheet_number": "SHBANDO", "parcel_number": "SOTHUA", "area_m2": "DIENTICH", "land_use": "MDSD"}
    results: list[tuple[str, str, float]] = []
    for label, path in (("GeoPackage", gpkg), ("Shapefile (.zip)", shz)):
        runs = {
            "ours, new layer": lambda p=path: run_ours(p, "new:bench-parcels"),
            "ours, land parcels (mapped)": lambda p=path: run_ours(p, "land-parcels", mapping),
            "ogr2ogr (peer)": lambda p=path: run_ogr2ogr(p),
            "raw COPY (limit)": lambda: run_copy(csv),
        }
        for tool, fn in runs.items():
            best = float("inf")
            for _ in range(args.repeat):
                cleanup_ours()
                drop_peers()
                best = min(best, timed(fn))
            results.append((label, tool, best))
            print(f"{label:18} {tool:30} {best:8.2f} s", file=sys.stderr)
    cleanup_ours()
    drop_peers()

    print(f"\n| file ({args.rows:,} parcels) | tool | seconds | × ogr2ogr | × raw COPY |")
    print("|---|---|---:|---:|---:|")
    for label in ("GeoPackage", "Shapefile (.zip)"):
        rows = {tool: sec for lab, tool, sec in results if lab == label}
        ogr, raw = rows["ogr2ogr (peer)"], rows["raw COPY (limit)"]
        for tool, sec in rows.items():
            print(f"| {label} | {tool} | {sec:.2f} | {sec / ogr:.2f} | {sec / raw:.2f} |")


if __name__ == "__main__":
    main()
