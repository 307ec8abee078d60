"""Load test: a mixed workload of citizens, leaders and field officers against a running server (locust).

    .venv/bin/pip install -e '.[bench]'                      # locust
    make demo                                                # in another terminal: the server under test
    .venv/bin/python benchmarks/load.py --host http://127.0.0.1:8000 [--clients 16,64] [--duration 60]

The wrapper (this file run as a script) runs locust headless once per client count (each for --duration
seconds, all clients started within the first seconds), then prints per endpoint the request count, p50
and p95 latency (ms), and the errors. A 429 from a throttle is an answer (the platform protects itself as
designed), so it counts as a success; a 5xx or a dropped connection is an error, and so is any other 4xx
(the script asked for something that exists, so a 4xx means a bug on one side). Exit status 1 when
there was any error. `--write` records the table in docs/benchmarks.md (## Load).

The same file is the locustfile (`locust -f benchmarks/load.py`, e.g. for the web UI). Users:
- Citizen (weight 6): vector tiles around the district's petitions (z12–16), feature pages (REST and
  OGC API, bbox around a point), Open311 listing, and an Open311 POST of a new request (1 in 6).
- Leader (weight 2): signs in on /login/, then the dashboard API (view data, stats, communes).
- FieldOfficer (weight 2): signs in on /field/login/, lists assigned petitions near a point, syncs a
  field report (a new UUID each time, as a phone does).
Accounts are the demo ones (`manage.py demo_users`: leader / field_officer, passwords <name>-demo-2026).
Locations come from the server itself at start (the petitions' Open311 coordinates), so any district works.

It writes: Open311 requests and field reports (use a demo database, never production).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import math
import random
import re
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

from locust import HttpUser, between, events, task

ROOT = Path(__file__).resolve().parents[1]
DEMO_SUFFIX = "-demo-2026"
TILE_LAYERS = ("petitions", "schools", "planning-zones")  # public layers: anonymous citizens
FEATURE_LAYERS = ("schools", "health-facilities", "petitions")

# Filled once per locust process at test start, from the server (see `discover`).
POINTS: list[tuple[float, float]] = []
SERVICES: list[str] = []


@events.test_start.add_listener
def discover(environment: Any, **_: Any) -> None:
    """Points inside the district (the Open311 requests' coordinates) and the service codes to post to."""
    import requests  # here, not at the top: locust's gevent patches ssl first (else a RecursionError)

    host = environment.host.rstrip("/")
    services = requests.get(f"{host}/open311/v2/services.json", timeout=30).json()
    SERVICES[:] = [s["service_code"] for s in services]
    listed = requests.get(f"{host}/open311/v2/requests.json", params={"page_size": 200}, timeout=60).json()
    POINTS[:] = [(float(r["long"]), float(r["lat"])) for r in listed if r.get("lat") and r.get("long")]
    if not POINTS or not SERVICES:
        raise RuntimeError("the server has no Open311 services or requests: load the demo data (make demo) first")


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    """The XYZ tile holding a WGS84 point."""
    n = 1 << z
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return z, x, y


def bbox_around(lon: float, lat: float, metres: float) -> str:
    """A lon/lat bbox of about `metres` a side around a point."""
    dlat = metres / 2 / 111_320
    dlon = dlat / max(math.cos(math.radians(lat)), 0.1)
    return f"{lon - dlon:.6f},{lat - dlat:.6f},{lon + dlon:.6f},{lat + dlat:.6f}"


def point() -> tuple[float, float]:
    """A random known point, shifted by up to ~50 m so the requests are not all the same."""
    lon, lat = random.choice(POINTS)
    return lon + random.uniform(-0.0005, 0.0005), lat + random.uniform(-0.0005, 0.0005)


class IocUser(HttpUser):
    """Answers are judged the same way for every user: 429 counts as answered, 5xx and other 4xx fail."""

    abstract = True
    wait_time = between(0.5, 2.0)

    def call(self, method: str, url: str, name: str, ok: tuple[int, ...] = (200,), **kw: Any) -> Any:
        with self.client.request(method, url, name=name, catch_response=True, **kw) as response:
            if response.status_code in ok or response.status_code == 429:
                response.success()
            elif response.status_code == 0:
                response.failure("connection error")
            else:
                response.failure(f"HTTP {response.status_code}")
            return response

    def sign_in(self, path: str, username: str) -> None:
        """Sign in through the page's form (CSRF cookie, then POST); a refused sign-in is an error."""
        page = self.call("GET", path, f"GET {path}")
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text or "")
        data = {
            "username": username,
            "password": username + DEMO_SUFFIX,
            "csrfmiddlewaretoken": match.group(1) if match else self.client.cookies.get("csrftoken") or "",
        }
        headers = {"Referer": self.host.rstrip("/") + path}
        with self.client.post(
            path, data=data, headers=headers, name=f"POST {path}", catch_response=True, allow_redirects=False
        ) as response:
            if response.status_code == 429 or (response.status_code == 302 and "sessionid" in self.client.cookies):
                response.success()  # signed in, or throttled (an answer: the user goes on anonymously)
            else:
                response.failure(f"sign-in as {username} refused (HTTP {response.status_code})")


class Citizen(IocUser):
    weight = 6

    @task(6)
    def tiles(self) -> None:
        lon, lat = point()
        z, x, y = tile_of(lon, lat, random.randint(12, 16))
        layer = random.choice(TILE_LAYERS)
        # 204 is an empty tile, an answer like any other.
        self.call("GET", f"/tiles/{layer}/{z}/{x}/{y}.mvt", "tile /tiles/{slug}/{z}/{x}/{y}.mvt", ok=(200, 204))

    @task(2)
    def features_rest(self) -> None:
        lon, lat = point()
        layer = random.choice(FEATURE_LAYERS)
        params = {"bbox": bbox_around(lon, lat, 2000), "limit": 100}
        self.call("GET", f"/api/v1/layers/{layer}/features/", "features /api/v1/layers/{slug}/features/",
                  params=params)  # fmt: skip

    @task(2)
    def features_ogc(self) -> None:
        lon, lat = point()
        layer = random.choice(FEATURE_LAYERS)
        params = {"bbox": bbox_around(lon, lat, 2000), "limit": 100, "f": "json"}
        self.call("GET", f"/ogc/collections/{layer}/items", "features /ogc/collections/{slug}/items",
                  params=params)  # fmt: skip

    @task(2)
    def open311_list(self) -> None:
        self.call("GET", "/open311/v2/requests.json", "open311 GET requests.json", params={"page_size": 50})

    @task(1)
    def open311_post(self) -> None:
        lon, lat = point()
        data = {
            "service_code": random.choice(SERVICES),
            "lat": f"{lat:.6f}",
            "long": f"{lon:.6f}",
            "description": "Kiểm thử tải: đèn đường không sáng",
            "first_name": "Kiểm",
            "last_name": "Thử",
        }
        self.call("POST", "/open311/v2/requests.json", "open311 POST requests.json", ok=(200, 201), data=data)


class Leader(IocUser):
    weight = 2

    def on_start(self) -> None:
        self.sign_in("/login/", "leader")

    @task(3)
    def dashboard_view(self) -> None:
        self.call("GET", "/dashboard/api/view", "dashboard /dashboard/api/view", params={"stat": "petitions_received"})

    @task(2)
    def dashboard_stats(self) -> None:
        self.call(
            "GET", "/dashboard/api/stats", "dashboard /dashboard/api/stats", params={"stat": "petitions_received"}
        )

    @task(1)
    def dashboard_communes(self) -> None:
        self.call("GET", "/dashboard/api/communes", "dashboard /dashboard/api/communes")


class FieldOfficer(IocUser):
    weight = 2

    def on_start(self) -> None:
        self.sign_in("/field/login/", "field_officer")

    @task(2)
    def assigned(self) -> None:
        lon, lat = point()
        self.call("GET", "/field/api/assigned/", "field GET /field/api/assigned/", params={"lat": lat, "lon": lon})

    @task(3)
    def sync(self) -> None:
        lon, lat = point()
        data = {
            "uuid": str(uuid.uuid4()),
            "lat": f"{lat:.7f}",
            "lon": f"{lon:.7f}",
            "accuracy": "8.5",
            "note": "Kiểm thử tải: đã kiểm tra hiện trường",
            "outcome": "",
            "petition": "",
            "captured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        headers = {
            "X-CSRFToken": self.client.cookies.get("csrftoken") or "",
            "Referer": self.host.rstrip("/") + "/field/",
        }
        self.call(
            "POST", "/field/api/reports/", "field POST /field/api/reports/", ok=(200, 201), data=data, headers=headers
        )


# --- the wrapper ---------------------------------------------------------------------------------
def run_locust(host: str, clients: int, seconds: int, out: Path) -> Path:
    """One headless locust run; returns the CSV prefix of its statistics."""
    prefix = out / f"load-{clients}"
    argv = [
        sys.executable, "-m", "locust", "-f", str(Path(__file__).resolve()), "--headless", "--host", host,
        "--users", str(clients), "--spawn-rate", str(max(clients // 4, 1)), "--run-time", f"{seconds}s",
        "--csv", str(prefix), "--only-summary", "--exit-code-on-error", "0", "--loglevel", "WARNING",
    ]  # fmt: skip
    subprocess.run(argv, cwd=ROOT, check=True)
    return prefix


def summarise(prefix: Path) -> tuple[list[dict[str, Any]], int]:
    """Per endpoint: requests, p50, p95 (ms), errors; and the total errors, from locust's CSV files."""
    rows = []
    with open(f"{prefix}_stats.csv", newline="") as fh:
        for r in csv.DictReader(fh):
            rows.append(
                {
                    "name": r["Name"] if r["Type"] != "" else "Aggregated",
                    "requests": int(r["Request Count"]),
                    "p50": r["50%"],
                    "p95": r["95%"],
                    "errors": int(r["Failure Count"]),
                    "rps": float(r["Requests/s"]),
                }
            )
    errors = next((r["errors"] for r in rows if r["name"] == "Aggregated"), 0)
    return rows, errors


def failures(prefix: Path) -> list[str]:
    """The distinct failures ("GET name: HTTP 500 ×3")."""
    path = Path(f"{prefix}_failures.csv")
    if not path.exists():
        return []
    with path.open(newline="") as fh:
        return [f"{r['Method']} {r['Name']}: {r['Error']} ×{r['Occurrences']}" for r in csv.DictReader(fh)]


def table(clients: int, seconds: int, rows: list[dict[str, Any]]) -> str:
    """A Markdown table of one run."""
    lines = [
        f"**{clients} clients, {seconds} s**",
        "",
        "| endpoint | requests | req/s | p50 ms | p95 ms | errors |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(f"| {r['name']} | {r['requests']} | {r['rps']:.1f} | {r['p50']} | {r['p95']} | {r['errors']} |")
    return "\n".join(lines)


def write_docs(text: str) -> None:
    """Replace (or add) the `## Load` section of docs/benchmarks.md."""
    doc = ROOT / "docs" / "benchmarks.md"
    body = doc.read_text(encoding="utf-8")
    section = "## Load\n\n" + text.strip() + "\n"
    pattern = re.compile(r"^## Load\n.*?(?=^## |\Z)", re.S | re.M)
    body = pattern.sub(lambda _: section + "\n", body) if pattern.search(body) else body.rstrip() + "\n\n" + section
    doc.write_text(body, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Run the load at each client count; print (and with --write record) the tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", required=True, help="the running server, e.g. http://127.0.0.1:8000")
    parser.add_argument("--clients", default="16,64", help="concurrent clients per run, comma-separated")
    parser.add_argument("--duration", type=int, default=60, help="seconds per run")
    parser.add_argument("--write", action="store_true", help="record the tables in docs/benchmarks.md (## Load)")
    args = parser.parse_args(argv)
    counts = [int(c) for c in args.clients.split(",") if c.strip()]
    tables, total_errors = [], 0
    with tempfile.TemporaryDirectory(prefix="ioc-load-") as tmp:
        for clients in counts:
            print(f"\n=== load: {clients} clients for {args.duration} s against {args.host}", flush=True)
            prefix = run_locust(args.host, clients, args.duration, Path(tmp))
            rows, errors = summarise(prefix)
            total_errors += errors
            tables.append(table(clients, args.duration, rows))
            print(tables[-1])
            for line in failures(prefix):
                print("  error: " + line)
    header = (
        f"`benchmarks/load.py --clients {args.clients} --duration {args.duration}` — "
        f"{dt.date.today():%Y-%m-%d}, {args.host}. A 429 (throttle) counts as answered; errors are 5xx, "
        "dropped connections and unexpected 4xx."
    )
    if args.write:
        write_docs(header + "\n\n" + "\n\n".join(tables))
    print(f"\ntotal errors: {total_errors}")
    return 1 if total_errors else 0


if __name__ == "__main__":
    sys.exit(main())
