"""The citizens' planning lookup on the demo (issue 18, item 3: < 300 ms server-side): random parcels asked by
cadastral key and by a tap at their point on surface, through gunicorn as a visitor, against the raw-SQL limit
— the same answer's two queries (the parcel by key, then every plan's zones over it ranked by overlap) sent by
psycopg over one open connection, with no policy, catalog or JSON around them.

    .venv/bin/python benchmarks/lookup.py [--keys 200] [--write]

It starts gunicorn (3 sync workers, as `make demo`) on the main database (`manage.py load_demo`; the demo
publishes its cadastre, so a visitor's key lookup answers). --write replaces the `## Planning lookup` section of
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks.common import VENV_BIN, database_url, free_port, print_table, record_section, server, time_get  # noqa: E402

GOAL_MS = 300
# The raw-SQL limit: what the lookup must read from the database, and nothing else.
PARCEL_SQL = (
    "SELECT id, area_m2, land_use, certificate_status, ST_AsGeoJSON(geom, 6) FROM layers_landparcel "
    "WHERE commune_code = %s AND sheet_number = %s AND parcel_number = %s"
)
ZONES_SQL = """
WITH p AS (SELECT geom FROM layers_landparcel WHERE id = %s),
hit AS (SELECT z.id, z.plan_id, z.zone_code, z.land_use, z.max_density, z.max_height, z.geom,
               ST_Area(ST_Intersection(z.geom, p.geom)::geography) AS m2
        FROM layers_planningzone z CROSS JOIN p WHERE z.geom && p.geom AND ST_Intersects(z.geom, p.geom))
SELECT id, plan_id, zone_code, land_use, m2, CASE WHEN rank = 1 THEN ST_AsGeoJSON(geom, 6) END
FROM (SELECT hit.*, row_number() OVER (PARTITION BY plan_id ORDER BY m2 DESC) AS rank FROM hit) ranked
"""


def sample(db_url: str, n: int) -> list[tuple[str, int, int, float, float]]:
    """n random parcels (the same ones every run): key parts and the lon/lat of a point on their surface."""
    import psycopg

    with psycopg.connect(db_url) as conn:
        conn.execute("SELECT setseed(0.24931)")
        return conn.execute(
            "SELECT commune_code, sheet_number, parcel_number, ST_X(s), ST_Y(s) FROM "
            "(SELECT *, ST_PointOnSurface(geom) AS s FROM layers_landparcel ORDER BY random() LIMIT %s) t",
            [n],
        ).fetchall()


def sql_times(db_url: str, keys: list[tuple[str, int, int, float, float]]) -> list[float]:
    import psycopg

    times = []
    with psycopg.connect(db_url) as conn:
        for commune, sheet, number, _x, _y in keys[:5]:  # warm the connection's plans and the cache
            conn.execute(PARCEL_SQL, [commune, sheet, number]).fetchall()
        for commune, sheet, number, _x, _y in keys:
            start = time.perf_counter()
            parcel = conn.execute(PARCEL_SQL, [commune, sheet, number]).fetchone()
            conn.execute(ZONES_SQL, [parcel[0]]).fetchall()
            times.append(time.perf_counter() - start)
    return times


def pct(times: list[float], q: float) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000


def run(n: int) -> tuple[list[list[object]], dict[str, float]]:
    db_url = database_url()
    keys = sample(db_url, n)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    cmd = [str(VENV_BIN / "gunicorn"), "gis_ioc.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "3"]
    # The lookup's throttle (a public door) would refuse a benchmark's burst from one address: lifted here only.
    env = {"DATABASE_URL": db_url, "PETITIONS_READ_PER_MINUTE": "1000000"}
    http: dict[str, list[float]] = {"key": [], "tap": []}
    with server(cmd, f"{base}/healthz", env=env), requests.Session() as session:
        for commune, sheet, number, _x, _y in keys[:5]:  # untimed: the workers' first requests
            time_get(session, f"{base}/planning/api/lookup", params={"key": f"{commune}/{sheet}/{number}"})
        for commune, sheet, number, x, y in keys:
            http["key"].append(time_get(session, f"{base}/planning/api/lookup",
                                        params={"key": f"{commune}/{sheet}/{number}"})[0])  # fmt: skip
            http["tap"].append(time_get(session, f"{base}/planning/api/lookup", params={"lon": x, "lat": y})[0])
    sql = sql_times(db_url, keys)
    rows: list[list[object]] = []
    limit = statistics.median(sql)
    named = [("by key (HTTP, whole request)", http["key"]), ("by tap (HTTP, whole request)", http["tap"]),
             ("raw SQL limit (parcel + zones)", sql)]  # fmt: skip
    for name, times in named:
        ratio = f"{statistics.median(times) / limit:.1f}×"
        p50, p95, top = f"{pct(times, 0.5):.1f}", f"{pct(times, 0.95):.1f}", f"{max(times) * 1000:.1f}"
        rows.append([name, len(times), p50, p95, top, ratio])
    return rows, {"p95_key": pct(http["key"], 0.95), "p95_tap": pct(http["tap"], 0.95)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=200)
    parser.add_argument("--write", action="store_true", help="record the table in docs/benchmarks.md")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    rows, worst = run(args.keys)
    table = print_table(["question", "n", "p50 ms", "p95 ms", "max ms", "p50 ÷ SQL p50"], rows)
    verdict = "yes" if max(worst.values()) < GOAL_MS else "no"
    print(f"p95 under {GOAL_MS} ms: {verdict}")
    if args.write:
        record_section(
            "Planning lookup",
            f"`.venv/bin/python benchmarks/lookup.py --keys {args.keys} --write` — "
            f"{dt.date.today():%Y-%m-%d}, {os.cpu_count()} CPU cores (load average {load_before:.1f} when it started), "
            "demo data (126,464 parcels, published by the demo), gunicorn 3 sync workers, one visitor asking one "
            "question at a time. HTTP times are client-side, whole request; the raw-SQL limit is the answer's two "
            f"queries over one open connection. Goal: < {GOAL_MS} ms server-side; p95 under it: **{verdict}**.\n\n"
            f"{table}\n"
        )


if __name__ == "__main__":
    main()
