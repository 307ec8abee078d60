"""Feature APIs: our OGC API – Features against tipg and pygeoapi serving the same table, and raw SQL in psql.

    .venv/bin/pip install -e '.[bench]'      # tipg, pygeoapi, uvicorn, psycopg2-binary, geoalchemy2
    .venv/bin/python benchmarks/features.py [--repeat 7]

It uses the demo database (the land-parcel layer, ~100,000+ parcels loaded by `manage.py load_demo`),
starts gunicorn (1 sync worker) with the platform, tipg (uvicorn) and pygeoapi (uvicorn, Starlette app)
on free ports, all against the same table `layers_landparcel`, and asks each for the same pages with the
same six attributes: a 10,000-feature page, a map-view bbox (~500 m), a commune-sized bbox (~4 km) and
an attribute filter. Times are the median wall time of --repeat sequential requests (body read and parsed
by the client) after one warm-up; the limit is the same page built by `json_agg(ST_AsGeoJSON(...))` run in
psql (psql's \\timing: execution and transfer, no HTTP). A fourth server, the HTTP floor
(`benchmarks/http_floor.py`: no framework, no database), returns our own response bytes from memory under
the same gunicorn: what any Python server pays before doing any work. The only write: a `benchmark` user (gis_staff) and
its API token, because the parcel layer is staff-only.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.common import (  # noqa: E402
    VENV_BIN,
    database_url,
    db_parts,
    free_port,
    print_table,
    psql_time,
    server,
    time_get,
)

TABLE = "layers_landparcel"
PROPS = ["commune_code", "sheet_number", "parcel_number", "area_m2", "land_use", "certificate_status"]
PYGEOAPI_CONFIG = """
server:
  bind: {{host: 127.0.0.1, port: {port}}}
  url: http://127.0.0.1:{port}
  mimetype: application/json; charset=UTF-8
  encoding: utf-8
  languages: [en-US]
  limits: {{default_items: 10, max_items: 10000}}
  map: {{url: "http://127.0.0.1/none/{{z}}/{{x}}/{{y}}.png", attribution: none}}
logging: {{level: ERROR}}
metadata:
  identification: {{title: bench, description: bench, keywords: [bench], keywords_type: theme,
                    terms_of_service: "http://127.0.0.1/", url: "http://127.0.0.1/"}}
  license: {{name: none, url: "http://127.0.0.1/"}}
  provider: {{name: bench, url: "http://127.0.0.1/"}}
  contact: {{name: bench, position: bench, address: bench, city: bench, stateorprovince: bench, postalcode: "0",
            country: VN, phone: "0", fax: "0", email: bench@example.org, url: "http://127.0.0.1/", hours: "0",
            instructions: none, role: pointOfContact}}
resources:
  parcels:
    type: collection
    title: parcels
    description: parcels
    keywords: [parcels]
    extents: {{spatial: {{bbox: [108.3, 11.5, 108.8, 12.0], crs: "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}}}}
    providers:
      - type: feature
        name: PostgreSQL
        data: {{host: {host}, port: {dbport}, dbname: {dbname}, user: {user}, password: {password},
               search_path: [public]}}
        id_field: id
        table: {table}
        geom_field: geom
"""


def bench_token() -> str:
    """A gis_staff user's token (the parcel layer is staff-only)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gis_ioc.settings")
    import django

    django.setup()
    from django.contrib.auth.models import Group, User

    from gis_ioc import roles
    from gis_ioc.models import ApiToken

    roles.ensure_role_groups()
    user, _created = User.objects.get_or_create(username="benchmark", defaults={"is_active": True})
    user.groups.add(Group.objects.get(name=roles.GIS_STAFF))
    ApiToken.objects.filter(user=user, name="benchmark").delete()  # only the digest is stored: issue anew
    return ApiToken.issue(user, "benchmark").key


def sample_boxes(url: str) -> dict[str, tuple[float, float, float, float]]:
    """A ~500 m and a ~4 km box around the median parcel (deterministic for a given table)."""
    import psycopg

    with psycopg.connect(url) as conn:
        x, y = conn.execute(
            f"SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(geom) c FROM {TABLE} ORDER BY id "  # noqa: S608
            f"OFFSET (SELECT count(*) / 2 FROM {TABLE}) LIMIT 1) t"
        ).fetchone()
        conn.execute(f"ANALYZE {TABLE}")
    return {
        "bbox ~500 m": (x - 0.0023, y - 0.0023, x + 0.0023, y + 0.0023),
        "bbox ~4 km": (x - 0.018, y - 0.018, x + 0.018, y + 0.018),
    }


def raw_sql(limit: int, bbox: tuple[float, ...] | None = None, land_use: str | None = None) -> str:
    where = "TRUE"
    if bbox:
        env = "ST_MakeEnvelope({}, {}, {}, {}, 4326)".format(*bbox)
        where = f"geom && {env} AND ST_Intersects(geom, {env})"
    if land_use:
        where = f"land_use = '{land_use}'"
    cols = ", ".join(PROPS)
    return (
        f"SELECT json_agg(ST_AsGeoJSON(t.*, 'geom', 7)::json) FROM "  # noqa: S608
        f"(SELECT id, {cols}, geom FROM {TABLE} WHERE {where} ORDER BY id LIMIT {limit}) t"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    url = database_url()
    db = db_parts(url)
    token = bench_token()
    boxes = sample_boxes(url)
    props = ",".join(PROPS)
    cases = [
        ("10,000-feature page", {"limit": 10000}, raw_sql(10000), 10000),
        *[
            (name, {"limit": 1000, "bbox": ",".join(f"{v:.6f}" for v in box)}, raw_sql(1000, box), None)
            for name, box in boxes.items()
        ],
        ("filter land_use=CLN", {"limit": 1000, "land_use": "CLN"}, raw_sql(1000, land_use="CLN"), None),
    ]

    ports = {"ours": free_port(), "tipg": free_port(), "pygeoapi": free_port(), "HTTP floor": free_port()}
    tmp = Path(tempfile.mkdtemp(prefix="bench_features_"))
    floor_dir = tmp / "floor"
    floor_dir.mkdir()
    (tmp / "pygeoapi.yml").write_text(
        PYGEOAPI_CONFIG.format(
            port=ports["pygeoapi"],
            host=db["host"],
            dbport=db["port"],
            dbname=db["dbname"],
            user=db["user"],
            password=db["password"],
            table=TABLE,
        )
    )
    pg_env = {"PYGEOAPI_CONFIG": str(tmp / "pygeoapi.yml"), "PYGEOAPI_OPENAPI": str(tmp / "openapi.yml")}
    subprocess.run(
        [
            str(VENV_BIN / "pygeoapi"),
            "openapi",
            "generate",
            str(tmp / "pygeoapi.yml"),
            "--output-file",
            str(tmp / "openapi.yml"),
        ],
        check=True,
        env={**os.environ, **pg_env},
        capture_output=True,
    )

    servers = {
        "ours": (
            [str(VENV_BIN / "gunicorn"), "gis_ioc.wsgi:application", "-w", "1", "-b", f"127.0.0.1:{ports['ours']}"],
            {"DEBUG": "false", "DB_CONN_MAX_AGE": "600", "LOG_LEVEL": "ERROR"},
            f"http://127.0.0.1:{ports['ours']}/ogc/collections/land-parcels/items",
        ),
        "tipg": (
            [str(VENV_BIN / "uvicorn"), "tipg.main:app", "--port", str(ports["tipg"]), "--log-level", "warning"],
            {
                "DATABASE_URL": url,
                "TIPG_DB_SCHEMAS": '["public"]',
                "TIPG_DB_TABLES": f'["public.{TABLE}"]',
                "TIPG_DB_FUNCTIONS": "[]",
                "TIPG_MAX_FEATURES_PER_QUERY": "10000",
            },
            f"http://127.0.0.1:{ports['tipg']}/collections/public.{TABLE}/items",
        ),
        "pygeoapi": (
            [
                str(VENV_BIN / "uvicorn"),
                "pygeoapi.starlette_app:APP",
                "--port",
                str(ports["pygeoapi"]),
                "--log-level",
                "warning",
            ],
            pg_env,
            f"http://127.0.0.1:{ports['pygeoapi']}/collections/parcels/items",
        ),
        "HTTP floor": (
            [
                str(VENV_BIN / "gunicorn"),
                "benchmarks.http_floor:application",
                "-w",
                "1",
                "-b",
                f"127.0.0.1:{ports['HTTP floor']}",
            ],
            {"FLOOR_DIR": str(floor_dir)},
            f"http://127.0.0.1:{ports['HTTP floor']}",
        ),
    }
    # All servers run at once and every round asks each of them (and psql) in turn, so that load from
    # other processes on the machine weighs on every contender alike.
    samples: dict[str, dict[str, list[float]]] = {label: {k: [] for k in [*servers, "raw SQL"]} for label, *_ in cases}
    counts: dict[str, dict[str, int]] = {label: {} for label, *_ in cases}
    sessions = {name: requests.Session() for name in servers}
    for name, session in sessions.items():
        # identity: the time of the API, not of gzip (GZipMiddleware, cramjam) on a loopback link.
        session.headers.update({"Accept": "application/geo+json", "Accept-Encoding": "identity"})
        if name == "ours":
            session.headers["Authorization"] = f"Token {token}"
    with ExitStack() as stack:
        for cmd, env, items_url in servers.values():
            stack.enter_context(server(cmd, items_url + "?limit=1", env))
        for case, (label, params, sql, _n) in enumerate(cases):
            for round_ in range(args.repeat + 1):  # round 0 warms up
                for name, (_cmd, _env, items_url) in servers.items():
                    query = {**params, "properties": props}
                    if name == "HTTP floor":
                        seconds, content = time_get(sessions[name], f"{items_url}/case{case}")
                    else:
                        if name != "ours":
                            query["f"] = "geojson" if name == "tipg" else "json"
                        seconds, content = time_get(sessions[name], items_url, params=query)
                    if round_:
                        samples[label][name].append(seconds)
                    else:
                        counts[label][name] = len(json.loads(content)["features"])
                        if name == "ours":  # the floor returns exactly our bytes
                            (floor_dir / f"case{case}").write_bytes(content)
                seconds = psql_time(url, sql, 1)
                if round_:
                    samples[label]["raw SQL"].append(seconds)
    results = {label: {k: statistics.median(v) for k, v in by.items()} for label, by in samples.items()}

    rows = []
    for label, _p, _s, _n in cases:
        r = results[label]
        c = counts[label]
        rows.append(
            [
                label,
                "/".join(str(c[k]) for k in ("ours", "tipg", "pygeoapi")),
                f"{r['ours'] * 1000:.0f}",
                f"{r['tipg'] * 1000:.0f}",
                f"{r['pygeoapi'] * 1000:.0f}",
                f"{r['raw SQL'] * 1000:.0f}",
                f"{r['HTTP floor'] * 1000:.1f}",
                f"{r['tipg'] / r['ours']:.2f}×",
                f"{r['pygeoapi'] / r['ours']:.2f}×",
                f"{r['ours'] / r['raw SQL']:.2f}×",
                f"{r['ours'] / (r['raw SQL'] + r['HTTP floor']):.2f}×",
            ]
        )
    print(f"\n{TABLE}: {table_rows(url):,} rows; median of {args.repeat} interleaved rounds after 1 warm-up\n")
    print_table(
        [
            "query",
            "features (ours/tipg/pygeoapi)",
            "ours ms",
            "tipg ms",
            "pygeoapi ms",
            "raw SQL ms",
            "HTTP floor ms",
            "tipg/ours",
            "pygeoapi/ours",
            "ours/raw SQL",
            "ours/(raw SQL + floor)",
        ],
        rows,
    )


def table_rows(url: str) -> int:
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute(f"SELECT count(*) FROM {TABLE}").fetchone()[0]  # noqa: S608


if __name__ == "__main__":
    main()
