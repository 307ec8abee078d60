"""scripts/ioc-run (what `make demo` and `make serve` run): web and job workers together, a killed worker
restarted and reported, one SIGTERM stops every process."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from gis_ioc import roles
from layers.importers import jobs
from layers.models import ImportJob, LandParcel
from tests.conftest import make_user
from tests.layers import import_files as files
from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
IOC_RUN = ROOT / "scripts" / "ioc-run"


def test_the_supervisor_runs_a_worker_for_every_queue_the_code_uses() -> None:
    from procrastinate.contrib.django import app

    used = {task.queue for task in app.tasks.values() if task.queue != "builtin"}  # procrastinate's own, unused
    out = subprocess.run([sys.executable, str(IOC_RUN), "--print-plan"], capture_output=True, text=True, check=True)
    names = [p["name"] for p in json.loads(out.stdout)]
    assert "web" in names
    assert {n.removeprefix("worker:") for n in names if n.startswith("worker:")} == used
    assert used >= {"imports", "analysis"}


def test_the_live_stream_runs_on_uvicorn_beside_gunicorn_and_the_pages_know_its_port() -> None:
    argv = [sys.executable, str(IOC_RUN), "--port", "8100", "--print-plan"]
    plan = {
        p["name"]: p["argv"]
        for p in json.loads(subprocess.run(argv, capture_output=True, text=True, check=True).stdout)
    }
    assert plan["live"][1:4] == ["-m", "uvicorn", "gis_ioc.asgi:application"] and "8101" in plan["live"]
    assert "gunicorn" in plan["web"]
    no_live = subprocess.run([*argv, "--live-port", "0"], capture_output=True, text=True, check=True).stdout
    assert "live" not in {p["name"] for p in json.loads(no_live)}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LogLines:
    """The supervisor's stderr, read on a thread so the pipe never fills."""

    def __init__(self, stream) -> None:
        self.lines: list[str] = []
        self.pos = 0
        self._new: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def _pump(self, stream) -> None:
        for raw in iter(stream.readline, b""):
            self._new.put(raw.decode(errors="replace").rstrip())

    def wait_for(self, pattern: str, timeout: float = 90.0) -> re.Match[str]:
        """The next line after the previous match (seen already or to come) matching the expression."""
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern)
        while True:
            for i in range(self.pos, len(self.lines)):
                if m := rx.search(self.lines[i]):
                    self.pos = i + 1
                    return m
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no log line matching {pattern!r}; got:\n" + "\n".join(self.lines[-60:]))
            try:
                self.lines.append(self._new.get(timeout=remaining))
            except queue.Empty:
                pass


def _descendants(pid: int) -> set[int]:
    """Every live process below pid (from /proc), zombies excluded."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z":
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _import_parcels(user, tmp_path: Path, name: str, offset: int) -> ImportJob:
    archive = files.shapefile_zip(files.parcels(5, offset=offset), tmp_path, name, prj=False)
    job = jobs.create_job(
        SimpleUploadedFile(archive.name, archive.read_bytes()),
        jobs.options_from(
            {"target": "land-parcels", "mapping": ",".join(f"{k}={v}" for k, v in files.PARCEL_MAPPING.items())}
        ),
        user,
    )
    return jobs.enqueue(job)


def _finished(job: ImportJob) -> str | None:
    status = ImportJob.objects.get(pk=job.pk).status
    return status if status in ("succeeded", "failed") else None


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_supervisor_runs_jobs_restarts_a_killed_worker_and_stops_everything(tmp_path: Path, settings) -> None:
    from gis_ioc.demo.district import load_district

    load_district()
    settings.MEDIA_ROOT = str(tmp_path / "media")
    gis = make_user("gis_supervised", roles.GIS_STAFF)
    db = connection.settings_dict
    url = f"postgresql://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": url, "MEDIA_ROOT": settings.MEDIA_ROOT}
    supervisor = subprocess.Popen(
        [sys.executable, str(IOC_RUN), "--port", str(port), "--web-workers", "1", "--grace", "20"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    log = LogLines(supervisor.stderr)
    try:
        log.wait_for(r"web started \(pid \d+\)")
        worker_pid = int(log.wait_for(r"worker:imports started \(pid (\d+)\)").group(1))
        log.wait_for(r"worker:analysis started \(pid \d+\)")

        # A job deferred the way the web page does is run by the supervised worker.
        first = _import_parcels(gis, tmp_path, "first", 0)
        assert wait_for(lambda: _finished(first), what="the first import") == "succeeded"
        assert LandParcel.objects.count() == 5

        def health() -> dict | None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as response:
                    body = json.load(response)
            except OSError:
                return None
            return body if body["queue"]["workers_alive"] >= 2 else None

        body = wait_for(health, what="/healthz to see both workers")
        assert body["status"] == "ok"

        # kill -9 the import worker: the supervisor says which and why, and starts a new one.
        os.kill(worker_pid, signal.SIGKILL)
        log.wait_for(rf"worker:imports \(pid {worker_pid}\) was killed by SIGKILL after [\d.]+ s; restarting")
        new_pid = int(log.wait_for(r"worker:imports started \(pid (\d+)\)").group(1))
        assert new_pid != worker_pid and _alive(new_pid)
        second = _import_parcels(gis, tmp_path, "second", 100)
        assert wait_for(lambda: _finished(second), what="an import after the restart") == "succeeded"
        assert LandParcel.objects.count() == 10

        # One SIGTERM stops every process, gunicorn's workers included.
        family = _descendants(supervisor.pid)
        assert len(family) >= 4  # gunicorn master + its worker + two job workers
        supervisor.send_signal(signal.SIGTERM)
        assert supervisor.wait(timeout=60) == 0
        log.wait_for(r"all processes stopped")
        assert [pid for pid in family if _alive(pid)] == []
    finally:
        if supervisor.poll() is None:
            for pid in _descendants(supervisor.pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            supervisor.kill()
            supervisor.wait()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_children_do_not_outlive_a_killed_supervisor() -> None:
    db = connection.settings_dict
    url = f"postgresql://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    supervisor = subprocess.Popen(
        [sys.executable, str(IOC_RUN), "--no-web", "--queues", "imports"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    log = LogLines(supervisor.stderr)
    worker_pid = 0
    try:
        worker_pid = int(log.wait_for(r"worker:imports started \(pid (\d+)\)").group(1))
        log.wait_for(r"Launching a worker on imports")  # procrastinate is up, its signal handlers installed
        supervisor.kill()  # kill -9: no chance to stop its children itself
        supervisor.wait(timeout=10)
        # The kernel sends the orphan SIGTERM (PR_SET_PDEATHSIG); it stops like at a Ctrl-C.
        wait_for(lambda: not _alive(worker_pid), timeout=60, what="the orphaned worker to stop")
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
        if worker_pid and _alive(worker_pid):
            os.kill(worker_pid, signal.SIGKILL)
