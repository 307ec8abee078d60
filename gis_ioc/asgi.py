"""ASGI entry point of the live stream (uvicorn runs it beside gunicorn: `scripts/ioc-run`, compose `live`).

Only `/live/` is served here: long-lived connections belong to this event loop, every other request to
gunicorn's sync worker processes (GDAL is not thread-safe). The requests it serves go through Django's
ASGI handler and the usual middleware, so the sign-in (session or API token) is the one of every channel.
"""

import os
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gis_ioc.settings")
# Django's ASGI handler runs each request's sync parts in a thread of its own: a persistent connection
# would outlive its thread. A stream connects to the database only when it opens (and the hub holds its own).
os.environ.setdefault("DB_CONN_MAX_AGE", "0")
django_application = get_asgi_application()

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[Mapping[str, Any]], Awaitable[None]]
PREFIX = "/live/"


async def application(scope: Scope, receive: Receive, send: Send) -> None:
    """Django for /live/…, 404 for anything else (served by gunicorn); lifespan events are acknowledged."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                from live.stream import HUB

                await HUB.stop()  # closes its LISTEN connection
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] == "http" and scope.get("path", "").startswith(PREFIX):
        # Never compressed: GZipMiddleware buffers a stream in zlib until kilobytes accumulate, which would
        # hold events back; an event is a few hundred bytes anyway.
        headers = [(k, v) for k, v in scope.get("headers", []) if k.lower() != b"accept-encoding"]
        await django_application({**scope, "headers": headers}, receive, send)
        return
    if scope["type"] != "http":  # a websocket: none is offered
        await send({"type": "websocket.close", "code": 1008})
        return
    body = b"Not found: this server streams /live/ only; pages and APIs are served by the web server.\n"
    await send(
        {"type": "http.response.start", "status": 404, "headers": [(b"content-type", b"text/plain; charset=utf-8")]}
    )
    await send({"type": "http.response.body", "body": body})
