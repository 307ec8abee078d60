"""Petitions: Open311 listing against the raw-SQL limit, the public status page, and intake's spatial context,
on the demo data (`manage.py load_demo`, 5,000 petitions).

    .venv/bin/python benchmarks/petitions.py [--repeat 7]

Starts gunicorn (3 sync workers, as `make demo`) on the main database with the public rate limits raised
(the benchmark is one client hammering the API), then times:
- GET /open311/v2/requests.json and .xml with page_size=1000 against `SELECT json_agg(...)` of the same
  1,000 rows and fields in psql (the limit: no Python at all);
- GET /petitions/track/<code>/ (the public status page);
- intake's spatial context (commune, parcel, approved zone, nearest school and health facility) for
  points spread over the district, in-process, read-only.
Nothing is written except throttle counters.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import requests as http

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks.common import VENV_BIN, database_url, free_port, print_table, psql_time, server, time_get  # noqa: E402

RAW_SQL = """
SELECT json_agg(json_build_object('service_request_id', tracking_code, 'status', status, 'service_code', category,
  'requested_datetime', received_at, 'updated_datetime', updated_at, 'expected_datetime', due_at,
  'lat', ST_Y(geom), 'long', ST_X(geom), 'address', address))
FROM (SELECT * FROM petitions_petition WHERE received_at >= '2000-01-01' ORDER BY received_at DESC LIMIT 1000) t
"""


def spatial_context_ms(db_url: str, points: int) -> float:
    """Median ms of intake.spatial_context over points inside the current communes."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gis_ioc.settings")
    os.environ["DATABASE_URL"] = db_url
    import django

    django.setup()
    from petitions import intake
    from petitions.models import Petition

    sample = list(Petition.objects.order_by("?").values_list("geom", flat=True)[:points])
    times = []
    for geom in sample:
        start = time.perf_counter()
        intake.spatial_context(geom)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    db_url = database_url()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {"DATABASE_URL": db_url, "PETITIONS_READ_PER_MINUTE": "1000000", "PETITIONS_SUBMIT_PER_MINUTE": "1000000"}
    cmd = [str(VENV_BIN / "gunicorn"), "gis_ioc.wsgi", "-w", "3", "-b", f"127.0.0.1:{port}"]
    rows = []
    with server(cmd, f"{base}/healthz", env=env):
        session = http.Session()
        limit = psql_time(db_url, RAW_SQL, args.repeat)
        for fmt in ("json", "xml"):
            url = f"{base}/open311/v2/requests.{fmt}?page_size=1000&start_date=2000-01-01T00:00:00Z"
            time_get(session, url)
            times = [time_get(session, url)[0] for _ in range(args.repeat)]
            median = statistics.median(times)
            rows.append([f"Open311 requests.{fmt}, 1,000 rows", f"{median * 1000:.0f}", f"{limit * 1000:.1f}",
                         f"{median / limit:.1f}×"])  # fmt: skip
        code = session.get(f"{base}/open311/v2/requests.json?page_size=1").json()[0]["service_request_id"]
        url = f"{base}/petitions/track/{code}/"
        time_get(session, url)
        status = statistics.median(time_get(session, url)[0] for _ in range(args.repeat))
        rows.append(["status page /petitions/track/<code>/", f"{status * 1000:.0f}", "—", "—"])
    rows.append(["intake spatial context (in-process)", f"{spatial_context_ms(db_url, 50):.1f}", "—", "—"])
    print_table(["what", "ms (median)", "psql limit ms", "ratio"], rows)


if __name__ == "__main__":
    main()
