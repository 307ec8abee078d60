"""Dashboard page load in Chromium: time from navigation to the map and the KPI cards drawn, and the
requests one page load makes, with the demo data (`manage.py load_demo`).

    .venv/bin/python benchmarks/dashboard.py [--repeat 5] [--write]

It collects the static files, starts gunicorn (3 sync workers, as `make demo`) against the main database,
signs a `benchmark_leader` user (leader role; the only write) in through a session, and opens `/` in
headless Chromium at 1366×768, each run in a fresh browser context (cold HTTP cache) and then once more
reloaded in the same context (warm cache). The page marks `ioc-kpis-drawn` when the KPI cards are written
and `ioc-map-drawn` at the map's first `idle` (communes, choropleth and the default tile layers drawn);
"drawn" is the later of the two, from the navigation start (performance.timeOrigin). The goal is < 2 s on
a 2-core machine. --write replaces the `## Dashboard` section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import statistics
import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests as http

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks.common import VENV_BIN, database_url, free_port, record_section, server  # noqa: E402

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
    "--disable-background-networking",
    "--disable-component-update",
    "--lang=vi-VN",
]
GOAL_MS = 2000


def session_cookie(db_url: str, username: str = "benchmark_leader", role: str = "leader") -> str:
    """A signed-in session of a benchmark user holding `role` (created on first use)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gis_ioc.settings")
    os.environ["DATABASE_URL"] = db_url
    import django

    django.setup()
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.models import Group, User
    from django.contrib.sessions.backends.db import SessionStore

    from gis_ioc import roles

    roles.ensure_role_groups()
    user, _ = User.objects.get_or_create(username=username, defaults={"first_name": "Benchmark"})
    user.groups.add(Group.objects.get(name=role))
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return session.session_key


def kind_of(url: str) -> str:
    path = re.sub(r"^https?://[^/]+", "", url)
    if path.startswith("/static/"):
        return "static"
    if path.startswith("/tiles/") or path.startswith("/mapproxy/"):
        return "tiles"
    if path.startswith("/dashboard/api/"):
        return "api"
    return "page"


def one_load(context, base: str, url: str) -> dict[str, object]:
    """Open the page once; the drawn time and the requests made until the page was drawn and settled."""
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(base + url)
    page.wait_for_function("document.body.dataset.kpisReady && document.body.dataset.mapReady", timeout=60_000)
    marks = page.evaluate(
        "() => Object.fromEntries(['ioc-kpis-drawn', 'ioc-map-drawn']"
        ".map((n) => [n, performance.getEntriesByName(n)[0]?.startTime]))"
    )
    # Where the time goes: the HTML and the aggregated view request, as the browser saw them.
    net = page.evaluate(
        "() => ({html: performance.getEntriesByType('navigation')[0].responseEnd,"
        " api: performance.getEntriesByType('resource').find((e) => e.name.includes('/dashboard/api/view'))"
        "?.responseEnd, scripts: Math.max(...performance.getEntriesByType('resource')"
        ".filter((e) => e.name.includes('/static/')).map((e) => e.responseEnd))})"
    )
    drawn_requests = len(requests)
    page.wait_for_load_state("networkidle")
    result = {
        "kpis": marks["ioc-kpis-drawn"],
        "map": marks["ioc-map-drawn"],
        "drawn": max(marks["ioc-kpis-drawn"], marks["ioc-map-drawn"]),
        "html": net["html"],
        "api": net["api"] or 0.0,
        "scripts": net["scripts"],
        "requests_at_drawn": drawn_requests,
        "requests": Counter(kind_of(u) for u in requests),
        "stats_requests": sum(1 for u in requests if "/dashboard/api/" in u),
        "urls": requests,
    }
    page.close()
    return result


SHOTS = ROOT / "docs" / "screenshots"
# Pages of the docs: (file, path, signed in, viewport).
DOC_PAGES = [
    ("demo-dashboard.png", "/?stat=petitions_received", True, (1366, 768)),
    ("demo-commune-profile.png", "/communes/24931/?stat=petitions_received", True, (1366, 768)),
    ("demo-public-map.png", "/", False, (1366, 768)),
    ("demo-control-room.png", "/?stat=dossier_on_time_rate&mode=wall", True, (1920, 1080)),
    ("demo-planning-compare.png", "/planning/compare/", True, (1366, 768)),
    ("demo-district-report.png", "/reports/district/?stat=revenue_vs_plan", True, (1000, 1400)),
]


def screenshots(browser, base: str, cookie: str) -> None:
    """Screenshots of every page with the demo data, for the docs."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for name, path, signed_in, (width, height) in DOC_PAGES:
        ctx = browser.new_context(viewport={"width": width, "height": height}, locale="vi-VN", bypass_csp=True)
        if signed_in:
            ctx.add_cookies([{"name": "sessionid", "value": cookie, "url": base}])
        page = ctx.new_page()
        page.goto(base + path)
        page.wait_for_function(
            "(document.body.dataset.kpisReady && document.body.dataset.mapReady) || document.body.dataset.mapsReady"
            " || window.reportReady === true",
            timeout=60_000,
        )
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(SHOTS / name), full_page="report" in name)
        ctx.close()


def run(repeat: int, url: str, shots: bool = False) -> dict[str, object]:
    from playwright.sync_api import sync_playwright

    db_url = database_url()
    cookie = session_cookie(db_url)
    subprocess.run(
        [str(VENV_BIN / "python"), "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        check=True,
        env={**os.environ, "DATABASE_URL": db_url},
    )
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    cmd = [str(VENV_BIN / "gunicorn"), "gis_ioc.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "3"]
    env = {"DATABASE_URL": db_url, "IOC_SERVE_STATIC": "1"}
    cold, warm = [], []
    with server(cmd, f"{base}/healthz", env=env), sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        # Untimed warm-up: each gunicorn worker imports the app (GDAL, MapProxy, …) and opens its database
        # connection on its first request; concurrent requests reach every worker.
        with ThreadPoolExecutor(9) as pool:
            list(pool.map(lambda _: http.get(f"{base}{url}", cookies={"sessionid": cookie}, timeout=60), range(9)))
        ctx = browser.new_context(viewport={"width": 1366, "height": 768}, locale="vi-VN", bypass_csp=True)
        ctx.add_cookies([{"name": "sessionid", "value": cookie, "url": base}])
        one_load(ctx, base, url)
        ctx.close()
        for _ in range(repeat):
            ctx = browser.new_context(viewport={"width": 1366, "height": 768}, locale="vi-VN", bypass_csp=True)
            ctx.add_cookies([{"name": "sessionid", "value": cookie, "url": base}])
            cold.append(one_load(ctx, base, url))
            warm.append(one_load(ctx, base, url))
            ctx.close()
        if shots:
            screenshots(browser, base, cookie)
        browser.close()
    return {"cold": cold, "warm": warm, "url": url, "repeat": repeat}


def summary(results: dict[str, object]) -> str:
    lines = [
        "| load | drawn (median) | KPIs drawn | map drawn | min – max | HTML / static files / view data received "
        "| requests until drawn | requests in all (page / static / api / tiles) | statistics requests | goal < 2 s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name in ("cold", "warm"):
        runs = results[name]
        drawn = [r["drawn"] for r in runs]
        req = runs[0]["requests"]
        total = sum(req.values())
        med = statistics.median(drawn)
        lines.append(
            f"| {name} cache | {med:.0f} ms | {statistics.median(r['kpis'] for r in runs):.0f} ms | "
            f"{statistics.median(r['map'] for r in runs):.0f} ms | {min(drawn):.0f} – {max(drawn):.0f} ms | "
            f"{statistics.median(r['html'] for r in runs):.0f} / {statistics.median(r['scripts'] for r in runs):.0f} / "
            f"{statistics.median(r['api'] for r in runs):.0f} ms | "
            f"{runs[0]['requests_at_drawn']} | {total} ({req['page']} / {req['static']} / {req['api']} / "
            f"{req['tiles']}) | {runs[0]['stats_requests']} | {'yes' if med < GOAL_MS else 'no'} |"
        )
    return "\n".join(lines)


def write_section(text: str) -> None:
    """Replace (or append) the `## Dashboard` section of docs/benchmarks.md, leaving the others alone."""
    record_section("Dashboard", text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--url", default="/?stat=petitions_received", help="page to open (path and query)")
    parser.add_argument("--screenshots", action="store_true", help="also write docs/screenshots/demo-*.png")
    parser.add_argument("--verbose", action="store_true", help="list the requests of the first cold load")
    parser.add_argument("--write", action="store_true", help="record the table in docs/benchmarks.md")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    results = run(args.repeat, args.url, args.screenshots)
    table = summary(results)
    if args.verbose:
        print("\n".join(results["cold"][0]["urls"]))
    print(table)
    if args.write:
        cpus = os.cpu_count()
        text = (
            f"`.venv/bin/python benchmarks/dashboard.py --repeat {args.repeat} --write` — {dt.date.today():%Y-%m-%d}, "
            f"{cpus} CPU cores (load average {load_before:.1f} when it started), demo data (`manage.py load_demo`), "
            "gunicorn 3 sync workers, Debian Chromium "
            f"headless (SwiftShader WebGL), 1366×768, signed-in leader, page `{args.url}`.\n\n"
            '"Drawn" = navigation start → both the KPI cards written and the map\'s first `idle` (communes, '
            "choropleth, labels, default tile layers). Statistics arrive in one aggregated request per view "
            "(`/dashboard/api/view`: choropleth of every commune, KPIs, series and category charts).\n\n"
            f"{table}\n\n"
            "Reading it: the columns HTML / static files / view data are when the browser had received each "
            "(response end, from navigation start); the time after that is the browser's own main thread — "
            "MapLibre starting WebGL in software (SwiftShader, no GPU in CI) and drawing the communes and tile "
            "layers, Chart.js drawing the charts. Run it on an otherwise idle machine: the load average above "
            "says how busy the cores were.\n"
        )
        write_section(text)


if __name__ == "__main__":
    main()
