"""Live events: how long a petition filed through Open311 takes to reach 50 open dashboards (SSE clients).

    make demo   # or scripts/ioc-run with PETITIONS_SUBMIT_PER_MINUTE raised (one client files them all)
    .venv/bin/python benchmarks/live.py --base http://127.0.0.1:8000 [--live http://127.0.0.1:8001/live/events]
                                        [--clients 50] [--rate 2] [--count 120] [--user leader]

Opens --clients server-sent-event connections to the live stream as --user (an API token is issued for
the run through the database: DATABASE_URL or the project's cluster, the same database as the server),
waits until each has its `hello`, then files --count petitions through the real Open311 endpoint
(`POST /open311/v2/requests.json`) at --rate per second, at points inside the current communes, and
records when each client receives the event naming each petition's tracking code. Latency = receipt
minus the moment the POST was sent (the request, intake, commit, NOTIFY, the hub's read, the policy
and the socket). Lost = (petition, client) pairs never received within --drain seconds after the last
POST. Goals (issue 17): p50 < 1 s, p95 < 2 s, 0 lost.

The clients are asyncio sockets in this one process (HTTP/1.1, chunked decoding by hand: no dependency),
so 50 clients cost the measuring side little. It writes: petitions, an API token (use a demo database).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks.common import database_url  # noqa: E402


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gis_ioc.settings")
    os.environ["DATABASE_URL"] = database_url()
    import django

    django.setup()


def token_and_points(username: str) -> tuple[str, list[tuple[float, float]]]:
    """An API token for the user, and one point inside each current commune (filing targets)."""
    setup_django()
    from django.contrib.auth import get_user_model

    from gis_ioc.models import AdminUnit, ApiToken

    user = get_user_model().objects.get(username=username, is_active=True)
    key = ApiToken.issue(user, f"benchmarks/live.py {time.strftime('%Y-%m-%d %H:%M:%S')}").key
    points = []
    for unit in AdminUnit.objects.current().communes():
        p = unit.geom.point_on_surface
        points.append((p.x, p.y))
    return key, points


class Client:
    """One SSE connection; records (tracking code -> receipt time)."""

    def __init__(self, url: str, token: str) -> None:
        self.url = urlsplit(url)
        self.token = token
        self.received: dict[str, float] = {}
        self.hello = asyncio.Event()
        self.error: str | None = None

    async def run(self) -> None:
        host, port = self.url.hostname or "127.0.0.1", self.url.port or 80
        reader, writer = await asyncio.open_connection(host, port)
        path = self.url.path + (f"?{self.url.query}" if self.url.query else "")
        writer.write(
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Token {self.token}\r\n"
            "Accept: text/event-stream\r\n\r\n".encode()
        )
        await writer.drain()
        status = (await reader.readline()).decode()
        headers = {}
        while (line := (await reader.readline()).decode().strip()) != "":
            name, _sep, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if " 200 " not in status:
            self.error = status.strip()
            self.hello.set()
            return
        chunked = headers.get("transfer-encoding", "").lower() == "chunked"
        buffer = b""
        try:
            while True:
                if chunked:
                    size = int((await reader.readline()).strip() or b"0", 16)
                    if size == 0:
                        return
                    data = await reader.readexactly(size + 2)
                    buffer += data[:-2]
                else:
                    data = await reader.read(65536)
                    if not data:
                        return
                    buffer += data
                while b"\n\n" in buffer:
                    block, buffer = buffer.split(b"\n\n", 1)
                    self._event(block.decode())
        finally:
            writer.close()

    def _event(self, block: str) -> None:
        now = time.perf_counter()
        kind, data = "message", []
        for line in block.split("\n"):
            if line.startswith("event:"):
                kind = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].lstrip())
        if kind in ("hello", "reset"):
            self.hello.set()
            return
        if not data:
            return
        event = json.loads("\n".join(data))
        for feature in event.get("payload", {}).get("features", []):
            code = (feature.get("properties") or {}).get("tracking_code")
            if code and code not in self.received:
                self.received[code] = now


async def file_petitions(base: str, points: list[tuple[float, float]], count: int, rate: float) -> dict[str, float]:
    """POST `count` petitions at `rate` per second; {tracking code: time the POST was sent}."""
    session = requests.Session()
    sent: dict[str, float] = {}
    start = time.perf_counter()
    for i in range(count):
        due = start + i / rate
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        lon, lat = points[i % len(points)]
        data = {"service_code": "moi_truong", "lat": lat, "long": lon, "description": f"Benchmark live {i}"}
        t0 = time.perf_counter()
        response = await asyncio.to_thread(session.post, f"{base}/open311/v2/requests.json", data=data, timeout=60)
        if response.status_code == 429:
            raise SystemExit("Open311 throttled the filing: run the server with PETITIONS_SUBMIT_PER_MINUTE raised")
        response.raise_for_status()
        sent[response.json()[0]["service_request_id"]] = t0
    return sent


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    token, points = await asyncio.to_thread(token_and_points, args.user)
    base = urlsplit(args.base)
    live = args.live or f"{base.scheme}://{base.hostname}:{(base.port or 80) + 1}/live/events"
    clients = [Client(live, token) for _ in range(args.clients)]
    tasks = [asyncio.create_task(c.run()) for c in clients]
    await asyncio.wait_for(asyncio.gather(*(c.hello.wait() for c in clients)), 60)
    failed = [c.error for c in clients if c.error]
    if failed:
        raise SystemExit(f"{len(failed)} clients refused: {failed[0]}")
    sent = await file_petitions(args.base, points, args.count, args.rate)
    deadline = time.perf_counter() + args.drain
    while time.perf_counter() < deadline and any(len(c.received.keys() & sent.keys()) < len(sent) for c in clients):
        await asyncio.sleep(0.05)
    for task in tasks:
        task.cancel()
    latencies = [c.received[code] - t0 for code, t0 in sent.items() for c in clients if code in c.received]
    return {
        "clients": args.clients,
        "petitions": len(sent),
        "rate": args.rate,
        "deliveries": len(latencies),
        "lost": len(sent) * len(clients) - len(latencies),
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p95_ms": percentile(latencies, 0.95) * 1000,
        "max_ms": max(latencies) * 1000,
        "mean_ms": statistics.fmean(latencies) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="http://127.0.0.1:8000", help="the web server (Open311)")
    parser.add_argument("--live", help="the live stream URL (default: the base host on port + 1, /live/events)")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--rate", type=float, default=2.0, help="petitions per second")
    parser.add_argument("--count", type=int, default=120)
    parser.add_argument("--drain", type=float, default=10.0, help="seconds to wait for the last events")
    parser.add_argument("--user", default="leader", help="whose dashboards (a user who sees every commune)")
    args = parser.parse_args()
    result = asyncio.run(measure(args))
    print(
        "| clients | petitions | rate /s | deliveries | lost | p50 ms | p95 ms | max ms |\n"
        "|---:|---:|---:|---:|---:|---:|---:|---:|\n"
        f"| {result['clients']} | {result['petitions']} | {result['rate']:g} | {result['deliveries']} | "
        f"{result['lost']} | {result['p50_ms']:.0f} | {result['p95_ms']:.0f} | {result['max_ms']:.0f} |"
    )
    goals = result["p50_ms"] < 1000 and result["p95_ms"] < 2000 and result["lost"] == 0
    print("goals (p50 < 1 s, p95 < 2 s, 0 lost):", "met" if goals else "NOT met")
    sys.exit(0 if goals else 1)


if __name__ == "__main__":
    main()
