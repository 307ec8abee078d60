"""Public pages and the field app in Chromium on the demo (issue 18, item 6: each loads in < 2 s): the time
from navigation to the page usable — the `load` event and every map of the page drawn with its tiles — at a
phone's 360×740 and a laptop's 1366×768, cold cache (a fresh browser context each run).

    .venv/bin/python benchmarks/pages.py [--repeat 3] [--write]

It collects the static files and starts gunicorn (3 sync workers, as `make demo`) on the main database
(`manage.py load_demo`), like benchmarks/dashboard.py whose helpers it shares. --write replaces the
`## Public pages` section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks.common import VENV_BIN, database_url, free_port, print_table, record_section, server  # noqa: E402
from benchmarks.dashboard import CHROMIUM_ARGS, GOAL_MS, session_cookie  # noqa: E402

SIZES = {"phone": (360, 740), "laptop": (1366, 768)}
USABLE = (
    "() => document.readyState === 'complete' && (window.iocMaps || []).every((m) => m.loaded() && m.areTilesLoaded())"
)


def pages(db_url: str) -> list[tuple[str, str, bool, int]]:
    """(name, path, as a field officer, maps drawn) for every public page and the field app, with demo keys."""
    import psycopg

    with psycopg.connect(db_url) as conn:
        commune = conn.execute(
            "SELECT code FROM gis_ioc_adminunit WHERE level = 'commune' ORDER BY code LIMIT 1"
        ).fetchone()
        code = conn.execute("SELECT tracking_code FROM petitions_petition ORDER BY id LIMIT 1").fetchone()
    out = [
        ("public map", "/", False, 1),
        ("commune index", "/communes/", False, 0),
        ("commune profile", f"/communes/{commune[0]}/", False, 1),
        ("planning comparison", "/planning/compare/", False, 2),
        ("file a petition", "/petitions/", False, 1),
        ("track petitions", "/petitions/track/", False, 0),
        ("OGC collections", "/ogc/collections?f=html", False, 0),
        ("field app", "/field/", True, 1),
    ]
    if code:
        out.insert(6, ("petition status", f"/petitions/track/{code[0]}/", False, 0))
    return out


def one_load(browser, base: str, path: str, size: tuple[int, int], cookie: str | None, maps: int) -> float:
    context = browser.new_context(viewport={"width": size[0], "height": size[1]}, locale="vi-VN", bypass_csp=True)
    if cookie:
        context.add_cookies([{"name": "sessionid", "value": cookie, "url": base}])
    page = context.new_page()
    page.goto(base + path)
    page.wait_for_function(USABLE, arg=maps, timeout=60_000, polling=50)
    elapsed = page.evaluate("() => performance.now()")
    context.close()
    return float(elapsed)


def run(repeat: int) -> list[list[object]]:
    from playwright.sync_api import sync_playwright

    db_url = database_url()
    officer = session_cookie(db_url, "benchmark_field", "field_officer")
    subprocess.run([str(VENV_BIN / "python"), "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT,
                   check=True, env={**os.environ, "DATABASE_URL": db_url})  # fmt: skip
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    cmd = [str(VENV_BIN / "gunicorn"), "gis_ioc.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "3"]
    rows: list[list[object]] = []
    with server(cmd, f"{base}/healthz", env={"DATABASE_URL": db_url, "IOC_SERVE_STATIC": "1"}), sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        for name, path, as_officer, maps in pages(db_url):
            cookie = officer if as_officer else None
            one_load(browser, base, path, SIZES["laptop"], cookie, maps)  # untimed: the workers' first requests
            row: list[object] = [name, f"`{path}`"]
            medians = []
            for size in SIZES.values():
                times = [one_load(browser, base, path, size, cookie, maps) for _ in range(repeat)]
                medians.append(statistics.median(times))
                row.append(f"{statistics.median(times):.0f} ({min(times):.0f}–{max(times):.0f})")
            row.append("yes" if max(medians) < GOAL_MS else "no")
            rows.append(row)
            print(" | ".join(str(c) for c in row), flush=True)
        browser.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--write", action="store_true", help="record the table in docs/benchmarks.md")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    rows = run(args.repeat)
    headers = ["page", "path", "phone 360 px: ms median (min–max)", "laptop 1366 px: ms median (min–max)", "< 2 s"]
    table = print_table(headers, rows)
    if args.write:
        record_section(
            "Public pages",
            f"`.venv/bin/python benchmarks/pages.py --repeat {args.repeat} --write` — "
            f"{dt.date.today():%Y-%m-%d}, {os.cpu_count()} CPU cores (load average {load_before:.1f} when it started), "
            "demo data, gunicorn 3 sync workers, Debian Chromium headless (SwiftShader WebGL), cold cache each run. "
            "Time = navigation start → `load` and every map of the page drawn with its tiles (base map included).\n\n"
            f"{table}\n"
        )


if __name__ == "__main__":
    main()
