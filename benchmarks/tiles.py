"""Tiles: our vector tiles against tipg and the same ST_AsMVT query run directly (the limit); cached MapProxy
tiles against a static file server on the same files.

    .venv/bin/pip install -e '.[bench]'      # tipg, uvicorn
    .venv/bin/python benchmarks/tiles.py [--clients 1,8] [--passes 2]

Uses the demo database: the land-parcel layer (~100,000+ parcels, `manage.py load_demo`) and the demo
rasters (`tiles.demo`). A fixed set of tiles: at each zoom 10–16, the 3×3 block around the tile holding
the median parcel (63 tiles). For each server and each client count, every client walks the whole set
(from a different start) over keep-alive HTTP connections, after one warm-up pass; `--rounds` rounds,
interleaved across systems (the machine is shared), the median round reported: p50/p95 latency, req/s.

- limit: the SQL our view runs (`tiles.mvt.tile_sql`, with its planner settings `TILE_QUERY_SETTINGS`),
  executed by psycopg as psql would (literal values, simple protocol) from the same number of threads
  (no HTTP, no Django), bytes fetched.
- ours: gunicorn (`--workers` sync processes, 8: one per concurrent client), tile cache off (every
  request runs the SQL, then gzip) and on (warm disk cache), anonymous like tipg (the benchmark layer is
  public), and once with a gis_staff session (+4 queries: session, user, groups, commune scope).
- tipg 1.x (uvicorn, 4 workers) on the same table, the same six attributes; every system caps a tile at
  `--max-features` (10,000; ours through IOC_TILE_MAX_FEATURES instead of its per-zoom caps).
- MapProxy (gunicorn, 4 workers, the generated public configuration) serving a warm disk cache of the
  elevation layer through WMTS REST, against `python -m http.server` on the same cached files.

Writes: a temporary public catalog layer `bench-land-parcels` (the parcels, min zoom 10; removed at the end)
and a `benchmark` user (gis_staff) with a session. The load generator runs on the same 2-core machine.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.common import ROOT, VENV_BIN, database_url, free_port, print_table, server  # noqa: E402

TABLE = "layers_landparcel"
PROPS = ["commune_code", "sheet_number", "parcel_number", "area_m2", "land_use", "certificate_status"]
BENCH_SLUG = "bench-land-parcels"
ZOOMS = range(10, 17)


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gis_ioc.settings")
    import django

    django.setup()


def bench_layer_and_session() -> tuple[object, str]:
    """The temporary parcel layer (min zoom 10) and a gis_staff session cookie."""
    from django.contrib.auth.models import Group, User
    from django.test import Client

    from gis_ioc import roles
    from layers.models import Layer

    parcels = Layer.objects.get(slug="land-parcels")
    fields = {f.name: getattr(parcels, f.name) for f in Layer._meta.concrete_fields if f.name not in {"id", "slug"}}
    layer, _created = Layer.objects.update_or_create(
        slug=BENCH_SLUG, defaults=fields | {"min_zoom": 10, "visibility": "public"}
    )
    roles.ensure_role_groups()
    user, _created = User.objects.get_or_create(username="benchmark", defaults={"is_active": True})
    user.groups.add(Group.objects.get(name=roles.GIS_STAFF))
    client = Client()
    client.force_login(user)
    return layer, client.cookies["sessionid"].value


def tile_set(url: str) -> list[tuple[int, int, int]]:
    """3×3 tiles around the median parcel at z10–16 (deterministic for a given table)."""
    import math

    import psycopg

    with psycopg.connect(url) as conn:
        n = conn.execute(f"SELECT count(*) FROM {TABLE}").fetchone()[0]  # noqa: S608
        lon, lat = conn.execute(
            f"SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_PointOnSurface(geom) c FROM {TABLE} ORDER BY id "  # noqa: S608
            "OFFSET %s LIMIT 1) s",
            [n // 2],
        ).fetchone()
    tiles = []
    for z in ZOOMS:
        size = 1 << z
        cx = int((lon + 180) / 360 * size)
        cy = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * size)
        tiles += [(z, cx + dx, cy + dy) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
    return tiles


# --- load generation ----------------------------------------------------------------------------------
def run_clients(
    clients: int, paths: list[str], passes: int, fetch_factory: Callable[[], Callable[[str], int]]
) -> dict[str, float]:
    """Each client walks all paths `passes` times from its own offset; returns p50/p95 (ms), req/s, bytes."""
    latencies: list[float] = []
    total_bytes = [0]
    lock = threading.Lock()
    barrier = threading.Barrier(clients + 1)

    def worker(index: int) -> None:
        fetch = fetch_factory()
        order = paths[index * len(paths) // clients :] + paths[: index * len(paths) // clients]
        mine, got = [], 0
        barrier.wait()
        for _ in range(passes):
            for path in order:
                start = time.perf_counter()
                got += fetch(path)
                mine.append(time.perf_counter() - start)
        with lock:
            latencies.extend(mine)
            total_bytes[0] += got

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "p50": statistics.median(latencies) * 1000,
        "p95": latencies[int(0.95 * (len(latencies) - 1))] * 1000,
        "rps": len(latencies) / elapsed,
        "kb": total_bytes[0] / len(latencies) / 1024,
    }


def http_fetcher(base: str, headers: dict[str, str]) -> Callable[[], Callable[[str], int]]:
    """A factory of keep-alive GET functions (one connection per client thread)."""
    parts = urlsplit(base)

    def factory() -> Callable[[str], int]:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=300)

        def fetch(path: str) -> int:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            body = response.read()
            if response.status not in (200, 204):
                raise RuntimeError(f"GET {path}: {response.status} {body[:200]!r}")
            return len(body)

        return fetch

    return factory


def sql_fetcher(url: str, queries: dict[str, tuple[str, list]]) -> Callable[[], Callable[[str], int]]:
    """The limit: our tile SQL run by psycopg (one connection per client thread)."""
    import psycopg

    from tiles.mvt import TILE_QUERY_SETTINGS

    def factory() -> Callable[[str], int]:
        # As psql sends it, and as Django's cursor does for the view: values bound client-side, the simple
        # query protocol, no prepared statement. (psycopg's default cursor binds server-side and prepares a
        # statement after 5 runs, whose generic plan can be faster or slower than the view's: not the same
        # work.)
        conn = psycopg.connect(url, autocommit=True, cursor_factory=psycopg.ClientCursor)
        # The planner settings the view applies to its tile query (session-wide here: one statement per tile).
        for name, value in TILE_QUERY_SETTINGS.items():
            conn.execute("SELECT set_config(%s, %s, false)", [name, value])

        def fetch(path: str) -> int:
            sql, params = queries[path]
            row = conn.execute(sql, params).fetchone()
            return len(row[0]) if row and row[0] else 0

        return fetch

    return factory


# --- the runs -----------------------------------------------------------------------------------------
def vector_runs(args: argparse.Namespace, url: str, rows: list[list[object]]) -> None:
    from django.contrib.auth.models import User

    from gis_ioc import permissions
    from tiles import mvt

    layer, session = bench_layer_and_session()
    tiles = tile_set(url)
    user = User.objects.get(username="benchmark")
    fields = [f for f in PROPS if f in permissions.visible_fields(user, layer, "tiles")]
    queries = {}
    for z, x, y in tiles:
        sql, params = mvt.tile_sql(layer, user, mvt.Tile(z, x, y), mvt.TileFilters(), fields)
        queries[f"{z}/{x}/{y}"] = (sql, params)
    keys = list(queries)
    cookie = {"Cookie": f"sessionid={session}", "Accept-Encoding": "gzip"}
    anonymous = {"Accept-Encoding": "gzip"}
    ports = {"off": free_port(), "on": free_port(), "tipg": free_port()}
    cache_dir = tempfile.mkdtemp(prefix="bench_tilecache_")
    django_env = {
        "DEBUG": "false",
        "DB_CONN_MAX_AGE": "600",
        "IOC_TILE_CACHE_DIR": cache_dir,
        "IOC_TILE_MAX_FEATURES": str(args.max_features),
    }

    def gunicorn(port: int) -> list[str]:
        workers = str(args.workers)
        return [str(VENV_BIN / "gunicorn"), "gis_ioc.wsgi:application", "-w", workers, "-b", f"127.0.0.1:{port}"]

    tipg_cmd = [str(VENV_BIN / "uvicorn"), "tipg.main:app", "--port", str(ports["tipg"]), "--workers", "4"]
    # tipg is async: 4 processes already run 8 requests' queries at once. Sync gunicorn workers wait on
    # PostgreSQL, so they need one per concurrent client for the database to see the same concurrency.
    tipg_env = {
        "DATABASE_URL": url,
        "TIPG_DB_SCHEMAS": '["public"]',
        "TIPG_DB_TABLES": f'["public.{TABLE}"]',
        "TIPG_DB_FUNCTIONS": "[]",
        "TIPG_MAX_FEATURES_PER_TILE": str(args.max_features),
    }
    coll = f"/collections/public.{TABLE}/tiles/WebMercatorQuad"
    ours_paths = [f"/tiles/{BENCH_SLUG}/{k}.mvt" for k in keys]
    systems: dict[str, tuple[Callable[[], Callable[[str], int]], list[str]]] = {
        "limit: tile SQL via psycopg": (sql_fetcher(url, queries), keys),
        "ours, cache off": (http_fetcher(f"http://127.0.0.1:{ports['off']}", anonymous), ours_paths),
        "ours, cache off, staff session": (http_fetcher(f"http://127.0.0.1:{ports['off']}", cookie), ours_paths),
        "ours, warm cache": (http_fetcher(f"http://127.0.0.1:{ports['on']}", anonymous), ours_paths),
        "tipg 1.x": (
            http_fetcher(f"http://127.0.0.1:{ports['tipg']}", {"Accept-Encoding": "gzip"}),
            [f"{coll}/{k}?properties={','.join(fields)}" for k in keys],
        ),
    }
    measured: dict[str, dict[int, dict[str, float]]] = {name: {} for name in systems}
    with contextlib.ExitStack() as stack:
        for key, cache_flag in (("off", "0"), ("on", "1")):
            stack.enter_context(
                server(
                    gunicorn(ports[key]),
                    f"http://127.0.0.1:{ports[key]}/healthz",
                    env=django_env | {"IOC_TILE_CACHE": cache_flag},
                )  # fmt: skip
            )
        stack.enter_context(
            server(tipg_cmd + ["--log-level", "warning"], f"http://127.0.0.1:{ports['tipg']}/collections", env=tipg_env)
        )
        for factory, paths in systems.values():
            run_clients(1, paths, 1, factory)  # warm-up: PostgreSQL buffers, connections, the tile cache
        # The machine is shared: rounds are interleaved and the median round is kept, so a burst of
        # someone else's load does not land on one system only.
        for clients in args.clients:
            rounds: dict[str, list[dict[str, float]]] = {name: [] for name in systems}
            for _ in range(args.rounds):
                for name, (factory, paths) in systems.items():
                    rounds[name].append(run_clients(clients, paths, args.passes, factory))
            for name, results in rounds.items():
                measured[name][clients] = {k: statistics.median(r[k] for r in results) for k in results[0]}
    limit = measured["limit: tile SQL via psycopg"]
    for name, by_clients in measured.items():
        for c, m in by_clients.items():
            rows.append(
                [
                    name,
                    c,
                    f"{m['p50']:.1f}",
                    f"{m['p95']:.1f}",
                    f"{m['rps']:.1f}",
                    f"{m['kb']:.1f}",
                    f"{limit[c]['rps'] / m['rps']:.2f}",
                ]  # fmt: skip
            )


def mapproxy_runs(args: argparse.Namespace, rows: list[list[object]]) -> None:
    """Warm MapProxy's cache through its WMTS, then read the same tiles from it and from a static server."""
    from tiles import mapproxy
    from tiles.styles import district_bounds

    work = Path(tempfile.mkdtemp(prefix="bench_mapproxy_"))
    port_web, port_mp, port_static = free_port(), free_port(), free_port()
    env = {"IOC_MAPPROXY_DIR": str(work), "IOC_MAPPROXY_CACHE_DIR": str(work / "cache"), "DEBUG": "false"}
    os.environ.update(env)
    paths = mapproxy.write_config(work, upstream=f"http://127.0.0.1:{port_web}")
    west, south, east, north = district_bounds()
    wmts = []
    import math

    for z in (11, 12, 13):
        n = 1 << z
        x0, x1 = int((west + 180) / 360 * n), int((east + 180) / 360 * n)

        def ty(lat: float, n: int = n) -> int:
            return int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)

        wmts += [
            f"/wmts/elevation/webmercator/{z}/{x}/{y}.png"
            for x in range(x0, x1 + 1)
            for y in range(ty(north), ty(south) + 1)
        ]
    gunicorn = [str(VENV_BIN / "gunicorn"), "gis_ioc.wsgi:application", "-w", "2", "-b", f"127.0.0.1:{port_web}"]
    mp_app = f"mapproxy.wsgiapp:make_wsgi_app('{paths['public']}')"
    mp_cmd = [str(VENV_BIN / "gunicorn"), mp_app, "-w", "4", "-b", f"127.0.0.1:{port_mp}"]
    with server(gunicorn, f"http://127.0.0.1:{port_web}/healthz", env=env):
        with server(mp_cmd, f"http://127.0.0.1:{port_mp}/wmts/1.0.0/WMTSCapabilities.xml", env=env):
            run_clients(1, wmts, 1, http_fetcher(f"http://127.0.0.1:{port_mp}", {}))  # seeds the cache
            mp = {
                c: run_clients(c, wmts, args.passes, http_fetcher(f"http://127.0.0.1:{port_mp}", {}))
                for c in args.clients
            }
    cache_root = work / "cache"
    files = sorted(str(p.relative_to(cache_root)) for p in cache_root.glob("elevation_cache*/**/*.png"))
    if len(files) != len(wmts):
        print(f"note: {len(files)} cached files for {len(wmts)} WMTS tiles", file=sys.stderr)
    static_cmd = [
        sys.executable,
        "-m",
        "http.server",
        str(port_static),
        "--bind",
        "127.0.0.1",
        "--directory",
        str(cache_root),
    ]
    static_paths = ["/" + f for f in files]
    with server(static_cmd, f"http://127.0.0.1:{port_static}/"):
        fetch = http_fetcher(f"http://127.0.0.1:{port_static}", {})
        run_clients(1, static_paths, 1, fetch)
        static = {c: run_clients(c, static_paths, args.passes, fetch) for c in args.clients}
    for name, by_clients in (
        ("MapProxy, warm disk cache (WMTS REST)", mp),
        ("python -m http.server, same files", static),
    ):
        for c, m in by_clients.items():
            rows.append([name, c, f"{m['p50']:.1f}", f"{m['p95']:.1f}", f"{m['rps']:.1f}", f"{m['kb']:.1f}",
                         f"{static[c]['rps'] / m['rps']:.2f}"])  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", default="1,8", help="concurrent clients, comma-separated")
    parser.add_argument("--passes", type=int, default=1, help="walks of the tile set per client and round")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per system (median kept)")
    parser.add_argument("--skip-mapproxy", action="store_true")
    parser.add_argument("--workers", type=int, default=8, help="gunicorn sync workers for ours")
    parser.add_argument("--max-features", type=int, default=10_000, help="feature cap per tile, ours and tipg")
    args = parser.parse_args()
    args.clients = [int(c) for c in args.clients.split(",")]
    os.chdir(ROOT)
    os.environ["IOC_TILE_MAX_FEATURES"] = str(args.max_features)  # the limit's SQL is built in this process
    setup_django()
    from layers.models import Layer

    url = database_url()
    rows: list[list[object]] = []
    try:
        vector_runs(args, url, rows)
    finally:
        Layer.objects.filter(slug=BENCH_SLUG).delete()
    print("\nVector tiles, 63 tiles z10–16 over the parcel layer (ratio = limit req/s ÷ this req/s)\n")
    print_table(["server", "clients", "p50 ms", "p95 ms", "req/s", "KB/tile", "× limit"], rows)
    if not args.skip_mapproxy:
        mp_rows: list[list[object]] = []
        mapproxy_runs(args, mp_rows)
        print("\nCached raster tiles (elevation, z11–13 over the district; ratio = static req/s ÷ this req/s)\n")
        print_table(["server", "clients", "p50 ms", "p95 ms", "req/s", "KB/tile", "× static"], mp_rows)


if __name__ == "__main__":
    main()
