"""Citus against one PostgreSQL: tile, feature-page and statistic timings on the same demo data, side by side.

    scripts/ioc-db start                       # one PostgreSQL (or --single URL)
    scripts/ioc-citus start gis_ioc_bench      # a coordinator and two workers (or --citus URL)
    .venv/bin/python benchmarks/citus.py --prepare [--rounds 5]

--prepare migrates both databases, distributes the Citus one (`manage.py citus_distribute`) and loads the demo
(`manage.py load_demo`) where it has no parcels yet. Each database is then measured in its own process
(Django reads DATABASE_URL once) through Django's test client: the whole view and its SQL, no HTTP server,
tile cache off, as a gis_staff user (`benchmark`, the only write). After a warm-up, `--rounds` rounds of:

- tiles: the land-parcel tiles of zooms 13–16, the 3×3 block around the tile of the median parcel (36 tiles);
- feature pages: REST and OGC pages of 100 parcels in a 1 km box around the median parcel, a REST page of
  one commune's parcels, a page of petitions;
- statistics: a count (petitions received per commune, 12 months), a rate (dossiers resolved on time), and
  every KPI of the dashboard for the whole district.

Printed: p50 per item in milliseconds on each database, and Citus / single (> 1: Citus slower). On one
2-core machine the three Citus nodes share the cores the single server has alone: this measures what the
distribution costs in planning and fan-out, not what more machines would win.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.common import ROOT, database_url, print_table  # noqa: E402

MEDIAN_SQL = (
    "SELECT ST_X(c), ST_Y(c), commune_code FROM (SELECT ST_PointOnSurface(geom) c, commune_code, "
    "row_number() OVER (ORDER BY ST_X(ST_PointOnSurface(geom))) n, count(*) OVER () t FROM layers_landparcel) s "
    "WHERE n = t / 2"
)


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 1 << z
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return x, y


def citus_url(db: str) -> str:
    out = subprocess.run([ROOT / "scripts" / "ioc-citus", "url", db], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(out.stderr.strip() or "scripts/ioc-citus url failed")
    return out.stdout.strip()


def manage(url: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return result.stdout


def prepare(url: str, citus: bool) -> None:
    """Migrate, distribute (Citus) and load the demo where the parcels are missing."""
    manage(url, "migrate", "--noinput", "-v0")
    if citus:
        manage(url, "citus_distribute")
    count = manage(url, "shell", "-c", "from layers.models import LandParcel; print(LandParcel.objects.count())")
    if int(count.strip().splitlines()[-1]) == 0:
        started = time.monotonic()
        manage(url, "load_demo")
        print(f"  demo loaded in {time.monotonic() - started:.0f} s ({'citus' if citus else 'single'})")


def measure(rounds: int) -> dict[str, list[float]]:
    """In this process (DATABASE_URL set by the caller): p50 of each item over the rounds, in ms."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gis_ioc.settings")
    os.environ["IOC_TILE_CACHE"] = "0"
    import django

    django.setup()
    from django.contrib.auth.models import Group, User
    from django.db import connection
    from django.test import Client

    from gis_ioc import roles
    from layers import statistics as stats

    roles.ensure_role_groups()
    user, _created = User.objects.get_or_create(username="benchmark")
    user.groups.add(Group.objects.get(name=roles.GIS_STAFF))
    client = Client()
    client.force_login(user)
    with connection.cursor() as cursor:
        cursor.execute(MEDIAN_SQL)
        lon, lat, commune = cursor.fetchone()
        cursor.execute("SELECT max(received_date) FROM layers_dossier")
        last = cursor.fetchone()[0]
    start = last.replace(year=last.year - 1)
    box = f"{lon - 0.005},{lat - 0.0045},{lon + 0.005},{lat + 0.0045}"
    tiles = []
    for z in range(13, 17):
        cx, cy = tile_of(lon, lat, z)
        tiles += [f"/tiles/land-parcels/{z}/{cx + dx}/{cy + dy}.mvt" for dx in (-1, 0, 1) for dy in (-1, 0, 1)]

    def get_all(urls: list[str]) -> Callable[[], None]:
        def run() -> None:
            for url in urls:
                response = client.get(url)
                assert response.status_code in (200, 204), (url, response.status_code, response.content[:300])

        return run

    items: dict[str, Callable[[], object]] = {
        "tiles: 36 parcel tiles z13–16 (per tile)": get_all(tiles),
        "REST page: 100 parcels in a 1 km box": get_all(
            [f"/api/v1/layers/land-parcels/features/?bbox={box}&limit=100"]
        ),
        "REST page: 100 parcels of one commune": get_all(
            [f"/api/v1/layers/land-parcels/features/?commune={commune}&limit=100"]
        ),
        "OGC page: 100 parcels in a 1 km box": get_all(
            [f"/ogc/collections/land-parcels/items?bbox={box}&limit=100&f=json"]
        ),
        "REST page: 100 petitions": get_all(["/api/v1/layers/petitions/features/?limit=100"]),
        "statistic: petitions received per commune": lambda: stats.commune_values("petitions_received", start, last),
        "statistic: dossiers on time (rate) per commune": lambda: stats.commune_values(
            "dossier_on_time_rate", start, last
        ),
        "statistics: every KPI of the district": lambda: stats.kpis(start, last),
    }
    per_item = {"tiles: 36 parcel tiles z13–16 (per tile)": len(tiles)}
    for run in items.values():
        run()  # warm-up: caches, plans, connections
    times: dict[str, list[float]] = {name: [] for name in items}
    for _round in range(rounds):
        for name, run in items.items():
            t0 = time.perf_counter()
            run()
            times[name].append((time.perf_counter() - t0) * 1000 / per_item.get(name, 1))
    return times


def run_measure(url: str, rounds: int) -> dict[str, list[float]]:
    result = subprocess.run(
        [sys.executable, __file__, "--measure", "--rounds", str(rounds)],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise SystemExit(f"measuring {url.rsplit('@', 1)[-1]} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--single", help="the one-PostgreSQL database (default: DATABASE_URL or scripts/ioc-db's)")
    parser.add_argument(
        "--citus", help="the Citus coordinator's database (default: scripts/ioc-citus url gis_ioc_bench)"
    )
    parser.add_argument("--prepare", action="store_true", help="migrate, distribute and load the demo first")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.rounds)))
        return
    single = args.single or database_url()
    citus = args.citus or citus_url("gis_ioc_bench")
    if args.prepare:
        prepare(single, citus=False)
        prepare(citus, citus=True)
    # Interleaved: single, citus, single, citus — the machine is shared, so drift hits both sides.
    runs: dict[str, dict[str, list[float]]] = {"single": {}, "citus": {}}
    for _half in range(2):
        for side, url in (("single", single), ("citus", citus)):
            for name, values in run_measure(url, max(1, args.rounds // 2 + args.rounds % 2)).items():
                runs[side].setdefault(name, []).extend(values)
    rows = []
    for name in runs["single"]:
        one, dist = statistics.median(runs["single"][name]), statistics.median(runs["citus"][name])
        rows.append([name, f"{one:.1f}", f"{dist:.1f}", f"{dist / one:.2f}×"])
    print_table(["p50 (ms)", "one PostgreSQL", "Citus (1 coordinator + 2 workers)", "Citus / one"], rows)


if __name__ == "__main__":
    main()
