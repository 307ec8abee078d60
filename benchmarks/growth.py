"""Growth: the same measurements on the district demo (~126,000 parcels) and on the province demo (~2 million),
side by side, with the ratio (issue 16, item 2).

    .venv/bin/python benchmarks/growth.py [--small URL] [--large URL] [--tiles 40] [--dashboard]

Defaults: the main database (`make demo`) and `gis_ioc_province` on the same cluster (`make demo
SCALE=province`). Each database is measured in its own process (Django binds one database per process):

- vector tile p50: land-parcel tiles at z15 around seeded random parcels, uncached (IOC_TILE_CACHE=0), through
  Django's whole stack (test client, signed-in GIS officer);
- feature page p50: `/api/v1/layers/land-parcels/features/?limit=100&bbox=<1 km around a parcel>`;
- statistics: `parcels` and `petitions_received` for every commune of the current year (median of 3);
- import: a 10,000- and a 40,000-parcel GeoPackage into a new layer by the import pipeline (rows/s: linear
  when the two agree);
- with --dashboard: the dashboard load in headless Chromium (benchmarks/dashboard.py, median of 3 cold loads);
- with --citus URL: the same on the province demo loaded into Citus (a third column; docs/scaling.md).

Goals (issue 16): tile and feature-page p50 at 2M ≤ 1.3× at 126k; a statistic for all communes ≤ 1 s; import
linear in rows (±15 %); the province's dashboard drawn in < 3 s.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks.common import VENV_BIN, database_url  # noqa: E402


def _p50(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def measure(tiles: int, dashboard: bool, files: str) -> dict[str, object]:
    """Run in a child process whose DATABASE_URL names one database."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gis_ioc.settings")
    os.environ["IOC_TILE_CACHE"] = "0"
    import django

    django.setup()
    import datetime as dt

    from django.conf import settings
    from django.contrib.auth.models import Group, User
    from django.test import Client

    from gis_ioc import roles
    from layers import statistics as stats
    from layers.models import LandParcel

    settings.ALLOWED_HOSTS = ["*"]
    roles.ensure_role_groups()
    user, _ = User.objects.get_or_create(username="growth_bench")
    user.groups.add(Group.objects.get(name=roles.GIS_STAFF))
    client = Client()
    client.force_login(user)
    rng = random.Random(16)
    n = LandParcel.objects.count()
    ids = list(LandParcel.objects.values_list("id", flat=True)[:: max(1, n // 2000)])
    picks = [LandParcel.objects.get(id=rng.choice(ids)) for _ in range(tiles)]

    def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
        import math

        k = 1 << z
        return z, int((lon + 180) / 360 * k), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * k)

    def timed(url: str, params: dict | None = None) -> float:
        t0 = time.perf_counter()
        response = client.get(url, params or {})
        took = time.perf_counter() - t0
        assert response.status_code in (200, 204), (url, response.status_code)
        return took

    tile_times, page_times = [], []
    for parcel in picks:
        c = parcel.geom.centroid
        z, x, y = tile_of(c.x, c.y, 15)
        tile_times.append(timed(f"/tiles/land-parcels/{z}/{x}/{y}.mvt"))
        bbox = f"{c.x - 0.005},{c.y - 0.005},{c.x + 0.005},{c.y + 0.005}"
        page_times.append(timed("/api/v1/layers/land-parcels/features/", {"limit": 100, "bbox": bbox}))
    today = dt.date.today()
    stat_times: dict[str, float] = {}
    for code in ("parcels", "petitions_received"):
        runs = []
        for _ in range(3):
            t0 = time.perf_counter()
            values = stats.commune_values(code, dt.date(today.year, 1, 1), today)
            runs.append(time.perf_counter() - t0)
        stat_times[code] = statistics.median(runs) * 1000
    communes = len(values)
    bench_import = importlib.import_module("benchmarks.import")
    imports = {}
    for rows in (10_000, 40_000):
        path = Path(files) / f"growth-{rows}" / "thua.gpkg"
        t0 = time.perf_counter()
        bench_import.run_ours(path, f"new:bench-growth-{rows}")
        imports[rows] = time.perf_counter() - t0
    from django.db import connection

    from layers.models import Layer

    with connection.cursor() as cur:
        for layer in Layer.objects.filter(slug__startswith="bench-growth-"):
            cur.execute(f'DROP TABLE IF EXISTS "{layer.source_table}"')
            layer.delete()
    result: dict[str, object] = {
        "parcels": n,
        "communes": communes,
        "tile_p50_ms": _p50(tile_times),
        "page_p50_ms": _p50(page_times),
        "stat_ms": stat_times,
        "import_rows_per_s": {rows: rows / secs for rows, secs in imports.items()},
    }
    if dashboard:
        board = importlib.import_module("benchmarks.dashboard")
        runs = board.run(3, "/?stat=petitions_received")
        result["dashboard_ms"] = statistics.median(r["drawn"] for r in runs["cold"])
    return result


def child(url: str, args: argparse.Namespace, files: str) -> dict[str, object]:
    cmd = [str(VENV_BIN / "python"), __file__, "--measure", "--tiles", str(args.tiles), "--files", files]
    if args.dashboard:
        cmd.append("--dashboard")
    out = subprocess.run(cmd, env={**os.environ, "DATABASE_URL": url}, cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"measuring {url} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", default="", help="the district demo's database (default: the main one)")
    parser.add_argument("--large", default="", help="the province demo's database (default: gis_ioc_province)")
    parser.add_argument("--tiles", type=int, default=40)
    parser.add_argument("--dashboard", action="store_true")
    parser.add_argument(
        "--citus",
        default="",
        help="also measure the province demo on Citus: its coordinator's URL (scripts/ioc-citus url gis_ioc_province)",
    )
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--files", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.tiles, args.dashboard, args.files)))
        return
    small = args.small or database_url()
    large = args.large or small.rsplit("/", 1)[0] + "/gis_ioc_province"
    with tempfile.TemporaryDirectory() as files:
        bench_import = importlib.import_module("benchmarks.import")
        os.environ["DATABASE_URL"] = small  # the files are made inside the district's communes
        bench_import.ensure_database()  # make_files places the parcels with gis_ioc_bench's demo communes
        for rows in (10_000, 40_000):
            folder = Path(files) / f"growth-{rows}"
            folder.mkdir()
            bench_import.make_files(rows, folder)
        a, b = child(small, args, files), child(large, args, files)
        c = child(args.citus, args, files) if args.citus else None
    extra = f" province on Citus ({c['parcels']:,}) | ratio |" if c else ""
    print(
        f"| measure | district ({a['parcels']:,} parcels) | province ({b['parcels']:,} parcels) | ratio |{extra} goal |"
    )
    print("|---|---:|---:|---:|" + ("---:|---:|" if c else "") + "---|")

    def row(name: str, x: float, y: float, goal: str, unit: str = "ms") -> None:
        more = ""
        if c is not None:
            z = _pick(c, name)
            more = f" {z:.1f} {unit} | {z / x:.2f}× |"
        print(f"| {name} | {x:.1f} {unit} | {y:.1f} {unit} | {y / x:.2f}× |{more} {goal} |")

    names = {}

    def _pick(r: dict, name: str) -> float:
        return names[name](r)

    measures: list[tuple[str, object, str, str]] = [
        ("vector tile p50 (z15, uncached)", lambda r: r["tile_p50_ms"], "≤ 1.3×", "ms"),
        ("feature page p50 (100 rows, 1 km bbox)", lambda r: r["page_p50_ms"], "≤ 1.3×", "ms"),
    ]
    for code in a["stat_ms"]:
        measures.append((f"statistic {code}, all communes", lambda r, c=code: r["stat_ms"][c], "≤ 1000 ms", "ms"))
    for rows in ("10000", "40000"):
        measures.append(
            (f"import {int(rows):,} parcels", lambda r, n=rows: r["import_rows_per_s"][n], "linear ±15 %", "rows/s")
        )
    if args.dashboard:
        measures.append(("dashboard drawn (cold, Chromium)", lambda r: r["dashboard_ms"], "< 3000 ms", "ms"))
    for name, get, goal, unit in measures:
        names[name] = get
        row(name, get(a), get(b), goal, unit)  # type: ignore[operator]
    for label, r in (("district", a), ("province", b), ("province on Citus", c)):
        if r is not None:
            rates = r["import_rows_per_s"]
            print(f"import linearity, {label}: 40k rate / 10k rate = {rates['40000'] / rates['10000']:.2f}")


if __name__ == "__main__":
    main()
