"""Small helpers shared by the benchmarks: servers in subprocesses, HTTP and psql timings, a ratio table."""

from __future__ import annotations

import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import requests

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent


def database_url() -> str:
    """The main database (DATABASE_URL, or the project's own cluster written by scripts/ioc-db)."""
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    path = ROOT / ".ioc" / "database_url"
    if not path.exists():
        raise SystemExit("No database: run scripts/ioc-db start or set DATABASE_URL")
    return path.read_text().strip()


def db_parts(url: str) -> dict[str, str]:
    """host, port, dbname, user, password of a postgresql:// URL."""
    parts = urlsplit(url)
    return {
        "host": parts.hostname or "127.0.0.1",
        "port": str(parts.port or 5432),
        "dbname": parts.path.lstrip("/"),
        "user": parts.username or "",
        "password": parts.password or "",
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def server(
    cmd: Sequence[str], ready_url: str, env: dict[str, str] | None = None, timeout: float = 90
) -> Iterator[None]:
    """Run a server in its own process group until the block ends; wait until `ready_url` answers."""
    log = open(Path("/tmp") / f"bench_{Path(cmd[0]).name}_{os.getpid()}.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        list(cmd),
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{cmd[0]} exited with {proc.returncode}; see {log.name}")
            try:
                if requests.get(ready_url, timeout=5).status_code < 500:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{cmd[0]} did not answer {ready_url} in {timeout}s; see {log.name}")
            time.sleep(0.5)
        yield
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # only the group this helper started
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


def time_get(session: requests.Session, url: str, **kwargs: object) -> tuple[float, bytes]:
    """Wall time (s) of one GET until the whole body is received (not parsed), and the body."""
    start = time.perf_counter()
    response = session.get(url, timeout=300, **kwargs)  # type: ignore[arg-type]
    body = response.content
    elapsed = time.perf_counter() - start
    response.raise_for_status()
    return elapsed, body


def psql_time(url: str, sql: str, repeat: int, warmup: int = 1) -> float:
    """Median time (s) psql reports (`\\timing`) for a query whose result it receives and discards."""
    script = "\\timing on\n\\o /dev/null\n" + "\n".join([sql.rstrip(";") + ";"] * (warmup + repeat)) + "\n"
    out = subprocess.run(["psql", url, "-X", "-q"], input=script, capture_output=True, text=True, check=True).stdout
    times = [float(t) / 1000 for t in re.findall(r"Time: ([\d.]+) ms", out)]
    if len(times) != warmup + repeat:
        raise RuntimeError(f"psql timing failed: {out[:500]}")
    return statistics.median(times[warmup:])


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table (printed and returned, so it can be pasted into docs/benchmarks.md)."""
    cells = [[str(c) for c in headers]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in cells]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    text = "\n".join(lines)
    print(text)
    return text


def record_section(title: str, body: str) -> None:
    """Replace the `## {title}` section of docs/benchmarks.md with `body` (appended when it is not there yet):
    each benchmark's --write records its own figures, with the command that produced them, and nothing else."""
    path = ROOT / "docs" / "benchmarks.md"
    doc = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    section = f"## {title}\n\n{body.strip()}\n"
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.S | re.M)
    doc = pattern.sub(lambda _m: section + "\n", doc) if pattern.search(doc) else doc.rstrip("\n") + "\n\n" + section
    path.write_text(doc, encoding="utf-8")
