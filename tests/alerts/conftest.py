"""Helpers for alert tests: rules of each kind, a worker run, a local webhook receiver and SMTP sink."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from alerts.models import Rule
from gis_ioc import roles


def make_rule(**fields: Any) -> Rule:
    """A saved rule told to leaders (fields override), validated as the rules page would."""
    from alerts.rules import rule_errors

    fields.setdefault("name", f"Quy tắc {fields.get('kind', 'threshold')}")
    fields.setdefault("recipient_roles", [roles.LEADER])
    rule = Rule(**fields)
    assert rule_errors(rule) == {}
    rule.save()
    return rule


def run_jobs(queue: str = "alerts") -> None:
    """Run a real procrastinate worker in this process until the queue has nothing due. It reads the
    queue through psycopg (as `manage.py procrastinate worker` does), on the test database."""
    from django.db import connection
    from procrastinate import PsycopgConnector
    from procrastinate.contrib.django import app
    from psycopg.conninfo import make_conninfo

    db = connection.settings_dict
    parts = {"dbname": db["NAME"], "user": db["USER"], "password": db["PASSWORD"], "host": db["HOST"]}
    conninfo = make_conninfo(**{k: v for k, v in parts.items() if v}, **({"port": db["PORT"]} if db["PORT"] else {}))
    worker = app.with_connector(PsycopgConnector(conninfo=conninfo))
    worker.run_worker(queues=[queue], wait=False, install_signal_handlers=False, listen_notify=False)
    # The periodic deferrer queries through Django's connection on asgiref's one thread for thread-sensitive
    # calls: close it there, or the test database cannot be dropped at the end of the run.
    from asgiref.sync import SyncToAsync
    from django.db import connections

    SyncToAsync.single_thread_executor.submit(connections.close_all).result()
    gc.collect()


@pytest.fixture(autouse=True)
def _empty_alerts_queue(request: pytest.FixtureRequest) -> None:
    """procrastinate's tables are not Django's (a transactional test's flush leaves them): start each test
    with an empty alerts queue, so what a test counts is what it queued."""
    if "transactional_db" not in request.fixturenames and not any(
        m.kwargs.get("transaction") for m in request.node.iter_markers("django_db")
    ):
        return
    from django.db import connection

    request.getfixturevalue("transactional_db")
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM procrastinate_jobs WHERE queue_name = 'alerts'")


def make_jobs_due() -> int:
    """Bring every scheduled (back-off) job of the alerts queue to now: time passing, without waiting."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE procrastinate_jobs SET scheduled_at = now() WHERE queue_name = 'alerts' AND status = 'todo' "
            "AND scheduled_at > now()"
        )
        return cursor.rowcount


@dataclass
class Receiver:
    """A webhook receiver on localhost answering each POST with `status` (or holding it until released)."""

    status: int = 200
    hold: bool = False
    received: list[tuple[Any, bytes]] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    url: str = ""


@pytest.fixture
def receivers() -> Iterator[Any]:
    """receivers(status=200, hold=False) -> Receiver; every server is shut down after the test."""
    servers: list[tuple[ThreadingHTTPServer, Receiver]] = []

    def start(status: int = 200, hold: bool = False) -> Receiver:
        receiver = Receiver(status=status, hold=hold)

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.received.append((self.headers, body))  # names case-insensitive
                if receiver.hold:  # an endpoint that never answers in time
                    receiver.release.wait(30)
                self.send_response(receiver.status)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        servers.append((server, receiver))
        return receiver

    yield start
    for server, receiver in servers:
        receiver.release.set()
        server.shutdown()
        server.server_close()


@pytest.fixture
def smtp_sink() -> Iterator[list[Any]]:
    """A real SMTP server (aiosmtpd) on a free local port; yields the list of messages it received and
    points Django's SMTP backend at it."""
    import socket

    from aiosmtpd.controller import Controller
    from django.test import override_settings

    messages: list[Any] = []

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            messages.append(envelope)
            return "250 OK"

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend", EMAIL_HOST="127.0.0.1", EMAIL_PORT=port
        ):
            yield messages
    finally:
        controller.stop()
