"""Run every benchmark in benchmarks/ with one command (`make bench`), one after the other.

    .venv/bin/python benchmarks/run.py [--only tiles,zonal] [--skip dashboard] [--list]
                                       [--load-host http://127.0.0.1:8000]

Each benchmark is a script with its own ratio table (see its docstring and docs/benchmarks.md); this
runs each with its defaults in a subprocess, its output shown as it comes, goes on past one that fails,
and ends with a summary: which passed, which failed (exit code), how long each took. The exit status is
1 when any failed. The load test (benchmarks/load.py) and the live-events latency (benchmarks/live.py,
Open311 filing: start the server with PETITIONS_SUBMIT_PER_MINUTE raised) need a running server
(`make demo`): they run only with --load-host.

The machine is shared by the benchmarks themselves (servers, clients, PostgreSQL): run them on a quiet
machine and never two at once; this runner is sequential for that reason.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# Cheapest first, so a broken set-up shows in seconds; the browser benchmark last.
ORDER = ["zonal", "import", "features", "tiles", "petitions", "dashboard"]
# Helpers, this runner, and the two that measure a running server (load test, live events latency).
NOT_BENCHMARKS = {"run", "common", "http_floor", "load", "live"}


def discover() -> list[str]:
    """Benchmark scripts in benchmarks/: every module with a `__main__` entry point, in ORDER first."""
    found = sorted(
        p.stem
        for p in HERE.glob("*.py")
        if p.stem not in NOT_BENCHMARKS and 'if __name__ == "__main__"' in p.read_text(encoding="utf-8")
    )
    return [n for n in ORDER if n in found] + [n for n in found if n not in ORDER]


def run_one(name: str, argv: list[str]) -> tuple[int, float]:
    """Run one benchmark (output inherited); its exit code and wall time."""
    print(f"\n=== benchmarks/{name}.py {' '.join(argv)}".rstrip(), flush=True)
    started = time.monotonic()
    try:
        code = subprocess.run([sys.executable, str(HERE / f"{name}.py"), *argv], cwd=ROOT).returncode
    except KeyboardInterrupt:
        code = 130
    return code, time.monotonic() - started


def main(argv: list[str] | None = None) -> int:
    """Run the selected benchmarks and print the summary; 1 if any failed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", default="", help="comma-separated names (default: all)")
    parser.add_argument("--skip", default="", help="comma-separated names to leave out")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    parser.add_argument("--load-host", default="", help="also run the load test against this running server")
    args = parser.parse_args(argv)

    names = discover()
    if args.list:
        print("\n".join(names + ["load (with --load-host)", "live (with --load-host)"]))
        return 0
    only = {n.strip() for n in args.only.split(",") if n.strip()}
    skip = {n.strip() for n in args.skip.split(",") if n.strip()}
    unknown = (only | skip) - set(names) - {"load", "live"}
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}; known: {', '.join(names)}, load, live")
    plan: list[tuple[str, list[str]]] = [(n, []) for n in names if (not only or n in only) and n not in skip]
    if args.load_host and (not only or "load" in only) and "load" not in skip:
        plan.append(("load", ["--host", args.load_host]))
    if args.load_host and (not only or "live" in only) and "live" not in skip:
        plan.append(("live", ["--base", args.load_host]))

    results = []
    for name, extra in plan:
        code, seconds = run_one(name, extra)
        results.append((name, code, seconds))
        if code == 130:
            print("interrupted: the remaining benchmarks were not run", flush=True)
            break

    print("\n=== summary")
    print(f"{'benchmark':<12} {'result':<22} {'time':>8}")
    for name, code, seconds in results:
        result = "ok" if code == 0 else f"FAILED (exit {code})"
        print(f"{name:<12} {result:<22} {seconds:>7.0f}s")
    not_run = [n for n, _ in plan[len(results) :]]
    if not_run:
        print("not run: " + ", ".join(not_run))
    failed = [n for n, code, _ in results if code != 0]
    print(f"{len(results) - len(failed)} passed, {len(failed)} failed" + (f": {', '.join(failed)}" if failed else ""))
    return 1 if failed or not_run else 0


if __name__ == "__main__":
    sys.exit(main())
