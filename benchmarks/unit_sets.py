"""Statistics on unit sets: every statistic of `layers.statistics.STATISTICS` for the 148 real Lâm Đồng
communes over five years, on the 2009 set and on the set a 2025-07-style crosswalk created.

    .venv/bin/python benchmarks/unit_sets.py [--repeat 3] [--petitions 200000] [--dossiers 150000] [--rebuild]

Runs against its own database `gis_ioc_units` on the project's cluster (created, migrated and filled on
first use, or again with --rebuild), never the main one. The data:
- the 148 communes of ../shared/data/lam_dong_communes.geojson (the command of docs/boundaries.md);
- a crosswalk on 2025-07-01 built as the tests build it (tests/gis_ioc/reform.py: groups of 2–4
  neighbouring communes merged whole, one commune split in two), imported with `import_crosswalk`;
- petitions, dossiers and monthly revenue (4 sources) over 2021–2025, bulk-inserted in SQL, each filed
  under a code valid on its date (the old codes before 2025-07-01, the new ones after).

For each statistic and each set it times (median of --repeat, after one warm-up) `commune_timeseries`
monthly (60 periods × all units) and `commune_values` for the five years as one period, in-process (the
figures as the dashboard asks for them, without HTTP). Goal: < 1 s per statistic.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks.common import database_url, print_table  # noqa: E402

UNITS_DB = "gis_ioc_units"
START, END = dt.date(2021, 1, 1), dt.date(2025, 12, 31)
GOAL_S = 1.0


def units_url() -> str:
    return database_url().rsplit("/", 1)[0] + "/" + UNITS_DB


def ensure_database(rebuild: bool) -> bool:
    """Create and migrate gis_ioc_units; True when it has to be filled."""
    import psycopg

    with psycopg.connect(database_url(), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [UNITS_DB]).fetchone()
        if exists and rebuild:
            conn.execute(f'DROP DATABASE "{UNITS_DB}" WITH (FORCE)')
        if not exists or rebuild:
            conn.execute(f'CREATE DATABASE "{UNITS_DB}"')
    env = {**os.environ, "DATABASE_URL": units_url()}
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    with psycopg.connect(units_url()) as conn:
        return conn.execute("SELECT count(*) FROM gis_ioc_crosswalk").fetchone()[0] == 0


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gis_ioc.settings")
    os.environ["DATABASE_URL"] = units_url()
    import django

    django.setup()


# Records spread uniformly over the five years; each takes a random unit of the set valid on its date.
FILL_SQL = """
CREATE TEMP TABLE old_codes AS SELECT array_agg(u.code ORDER BY u.code) AS a FROM gis_ioc_adminunit u
  JOIN gis_ioc_unitset_members m ON m.adminunit_id = u.id JOIN gis_ioc_unitset s ON s.id = m.unitset_id
  WHERE s.slug = 'commune-2009-01-01';
CREATE TEMP TABLE new_codes AS SELECT array_agg(u.code ORDER BY u.code) AS a FROM gis_ioc_adminunit u
  JOIN gis_ioc_unitset_members m ON m.adminunit_id = u.id JOIN gis_ioc_unitset s ON s.id = m.unitset_id
  WHERE s.slug = 'commune-2025-07-01';
CREATE OR REPLACE FUNCTION pg_temp.code_on(day date) RETURNS varchar LANGUAGE sql VOLATILE AS $$
  SELECT CASE WHEN day < '2025-07-01' THEN o.a[1 + floor(random() * cardinality(o.a))::int]
              ELSE n.a[1 + floor(random() * cardinality(n.a))::int] END FROM old_codes o, new_codes n $$;
SELECT setseed(0.15);

INSERT INTO petitions_petition (commune_code, is_demo, created_at, updated_at, tracking_code, category,
  description, geom, received_at, status, resolved_at, due_at, reporter_name, reporter_phone, reporter_email,
  address, location_approximate, public_note, rating_comment, reopened_count, source, token, version,
  receipt_hash)
SELECT pg_temp.code_on((r.at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date), true, r.at, r.at, 'BU' || i,
  (ARRAY['dat_dai','moi_truong','giao_thong_ha_tang','khac'])[1 + i % 4], 'Phản ánh mẫu',
  ST_SetSRID(ST_MakePoint(108.4, 11.9), 4326), r.at,
  CASE WHEN i % 5 = 0 THEN 'in_progress' WHEN i % 7 = 0 THEN 'received' ELSE 'resolved' END,
  CASE WHEN i % 5 = 0 OR i % 7 = 0 THEN NULL ELSE r.at + (1 + i % 30) * interval '1 day' END,
  r.at + interval '15 days', '', '', '', '', false, '', '', 0, 'demo', md5('unit-bench-' || i), 0, ''
FROM generate_series(1, %(petitions)s) AS i,
     LATERAL (SELECT timestamptz '2021-01-01 00:00+07' + random() * interval '1825 days' + i * interval '0')
       AS r(at);

INSERT INTO layers_dossier (commune_code, is_demo, created_at, updated_at, received_date, due_date,
  resolved_date, status, procedure_code, procedure_name, field)
SELECT pg_temp.code_on(d.day), true, now(), now(), d.day, d.day + 10,
  CASE WHEN i % 6 = 0 THEN NULL ELSE d.day + (i % 14) END,
  CASE WHEN i % 6 = 0 THEN 'processing' ELSE 'resolved' END, 'TTHC-' || (i % 20), 'Thủ tục mẫu', 'khac'
FROM generate_series(1, %(dossiers)s) AS i,
     LATERAL (SELECT date '2021-01-01' + floor(random() * 1825)::int + i * 0) AS d(day);

INSERT INTO layers_budgetrevenue (commune_code, is_demo, created_at, updated_at, month, planned, actual, source)
SELECT c.code, true, now(), now(), m.month::date, 100 + (abs(hashtext(c.code)) % 400), 80 + random() * 440, s.src
FROM generate_series(date '2021-01-01', date '2025-12-01', interval '1 month') AS m(month)
CROSS JOIN LATERAL unnest(CASE WHEN m.month < '2025-07-01' THEN (SELECT a FROM old_codes)
                               ELSE (SELECT a FROM new_codes) END) AS c(code)
CROSS JOIN unnest(ARRAY['thue', 'phi_le_phi', 'dat_dai', 'khac']) AS s(src);
ANALYZE;
"""


def fill(petitions: int, dossiers: int) -> None:
    """Load the communes, import the crosswalk, insert the records."""
    from django.core.management import call_command
    from django.db import connection

    from tests.conftest import SHARED_DATA
    from tests.gis_ioc.reform import LAM_DONG, load_lam_dong, plan_reform, write_boundaries, write_csv

    if not (SHARED_DATA / LAM_DONG).exists():
        raise SystemExit(f"{LAM_DONG} not found in {SHARED_DATA}: set IOC_SHARED_DATA to the shared data folder")
    started = time.monotonic()
    load_lam_dong()
    reform = plan_reform("commune-2009-01-01")
    with tempfile.TemporaryDirectory() as folder:
        csv_path = write_csv(reform, Path(folder) / "sap_xep_2025.csv")
        halves = write_boundaries(reform, Path(folder) / "xa_tach.geojson")
        call_command("import_crosswalk", str(csv_path), "--boundaries", str(halves), stdout=open(os.devnull, "w"))  # noqa: SIM115
    with connection.cursor() as cursor:
        # Counts written in (no parameters): a script of several statements runs as one simple query.
        cursor.execute(
            FILL_SQL.replace("%(petitions)s", str(int(petitions))).replace("%(dossiers)s", str(int(dossiers)))
        )
    print(f"filled {UNITS_DB} in {time.monotonic() - started:.0f} s", flush=True)


def median_time(call, repeat: int) -> float:  # noqa: ANN001 - any zero-argument callable
    call()  # warm-up: the weights memo and PostgreSQL's caches
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--petitions", type=int, default=200_000)
    parser.add_argument("--dossiers", type=int, default=150_000)
    parser.add_argument("--rebuild", action="store_true", help="drop and fill gis_ioc_units again")
    parser.add_argument("--only", default="", help="comma-separated statistic codes")
    args = parser.parse_args()

    empty = ensure_database(args.rebuild)
    setup_django()
    if empty:
        fill(args.petitions, args.dossiers)
    from django.db import connection

    from gis_ioc.models import UnitSet
    from layers.statistics import STATISTICS, commune_timeseries, commune_values

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM petitions_petition), (SELECT count(*) FROM layers_dossier), "
            "(SELECT count(*) FROM layers_budgetrevenue)"
        )
        counts = cursor.fetchone()
    sets = {s: UnitSet.objects.get(slug=s).members.count() for s in ("commune-2009-01-01", "commune-2025-07-01")}
    print(
        f"{UNITS_DB}: {counts[0]:,} petitions, {counts[1]:,} dossiers, {counts[2]:,} revenue rows; "
        + ", ".join(f"{s}: {n} units" for s, n in sets.items()),
        flush=True,
    )
    only = {c for c in args.only.split(",") if c}
    rows = []
    worst = 0.0
    for code in STATISTICS:
        if only and code not in only:
            continue
        row: list[object] = [code]
        for slug in sets:
            monthly = median_time(lambda c=code, s=slug: commune_timeseries(c, START, END, units=s), args.repeat)
            whole = median_time(lambda c=code, s=slug: commune_values(c, START, END, units=s), args.repeat)
            worst = max(worst, monthly, whole)
            row += [f"{monthly:.3f}", f"{monthly / GOAL_S:.2f}", f"{whole:.3f}", f"{whole / GOAL_S:.2f}"]
        rows.append(row)
        print(f"  {code}: " + " ".join(str(c) for c in row[1:]), flush=True)
    headers = ["statistic"]
    for slug in sets:
        year = slug.split("-")[1]
        headers += [f"{year} monthly s", "÷ goal", f"{year} 5 y s", "÷ goal"]
    print()
    print_table(headers, rows)
    print(f"\nworst {worst:.3f} s; goal < {GOAL_S:.0f} s per statistic: {'met' if worst < GOAL_S else 'MISSED'}")
    sys.exit(0 if worst < GOAL_S else 1)


if __name__ == "__main__":
    main()
