"""The live stream served for real: uvicorn runs gis_ioc.asgi in a thread of the test process (so it reads
the test database), and clients read its server-sent events over HTTP."""

from __future__ import annotations

import gc
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests


@pytest.fixture
def stream_server(transactional_db: Any) -> Iterator[str]:
    """The base URL of a running uvicorn serving gis_ioc.asgi (stopped, LISTEN connection closed, after)."""
    import uvicorn
    from django.db import connections

    from gis_ioc.asgi import application

    # As gis_ioc.asgi sets for the real server: request threads must not keep their connections (the test
    # database is dropped at the end of the session).
    previous_age = connections.settings["default"]["CONN_MAX_AGE"]
    connections.settings["default"]["CONN_MAX_AGE"] = 0

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(application, log_level="warning", lifespan="on", timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:  # a readiness condition with a deadline, not a timing assumption
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)
        gc.collect()  # connections of finished request threads, so the test database can be dropped
        connections.settings["default"]["CONN_MAX_AGE"] = previous_age


@dataclass
class Stream:
    """One SSE client: `next()` returns the next event (a dict: id, event, data) or fails after `timeout`."""

    response: requests.Response
    lines: Iterator[str] = field(init=False)

    def __post_init__(self) -> None:
        self.lines = self.response.iter_lines(decode_unicode=True)

    def next(self, *, skip: tuple[str, ...] = ()) -> dict[str, Any]:
        """The next dispatched event whose type is not in `skip` (comments and id-only lines are skipped)."""
        while True:
            event: dict[str, Any] = {"event": "message"}
            data: list[str] = []
            for line in self.lines:
                if line == "":
                    break
                if line.startswith(":"):
                    continue
                name, _sep, value = line.partition(":")
                value = value[1:] if value.startswith(" ") else value
                if name == "data":
                    data.append(value)
                elif name in ("id", "event"):
                    event[name] = value
            else:
                raise AssertionError("the stream ended")
            if not data or event["event"] in skip:
                continue
            event["data"] = json.loads("\n".join(data))
            return event

    def close(self) -> None:
        self.response.close()


def open_stream(base: str, token: str, last_event_id: int | None = None, timeout: float = 15) -> Stream:
    """Connect with an API token (the read timeout makes a missing event fail the test, not hang it)."""
    headers = {"Authorization": f"Token {token}", "Accept": "text/event-stream"}
    if last_event_id is not None:
        headers["Last-Event-ID"] = str(last_event_id)
    response = requests.get(f"{base}/live/events", headers=headers, stream=True, timeout=timeout)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/event-stream")
    return Stream(response)


@pytest.fixture
def streams() -> Iterator[list[Stream]]:
    """Streams opened by a test, closed after it (before the server stops)."""
    opened: list[Stream] = []
    yield opened
    for s in opened:
        s.close()
