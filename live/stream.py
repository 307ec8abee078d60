"""The live stream: `GET /live/events` as server-sent events, served by uvicorn (gis_ioc/asgi.py), never by
gunicorn's sync workers (a connection stays open for minutes).

    browser EventSource ──► uvicorn ──► Django's ASGI handler (the usual middleware: session or API token,
                                        gis_ioc.middleware.SignInMiddleware) ──► `events` below
    publish() ──► NOTIFY ioc_live ──► Hub (one LISTEN connection per process) ──► every open stream's queue

On connect: sign-in (anonymous: 401), `Last-Event-ID` (header, or `?last_event_id=` for clients that cannot
set headers; not a non-negative integer: 400), the person's Audience (live/policy.py). The stream first
subscribes to the hub, then replays from the table the events after Last-Event-ID, then goes live, skipping
ids already sent — so an event committed between the replay and the subscription is neither lost nor sent
twice. Without Last-Event-ID it starts with a `hello` event carrying the newest id, so the browser's next
reconnect resumes from there. A resume from before the oldest kept event (pruned), or with more than
REPLAY_MAX events missed, gets a `reset` event: reload everything, then live.

Each stream ends after MAX_SECONDS (EventSource reconnects by itself with Last-Event-ID, and the sign-in
and policy are then read anew); a comment every KEEPALIVE_SECONDS finds dead connections behind proxies.
A stream whose queue overflows (a client that does not read) is closed: its browser resumes from its
last id, losing nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.db import DEFAULT_DB_ALIAS, close_old_connections, connections
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _

from live import client, events
from live.policy import Audience

logger = logging.getLogger(__name__)

REPLAY_MAX = 1000
MAX_SECONDS = 600.0
KEEPALIVE_SECONDS = 15.0
QUEUE_MAX = 1000
RETRY_MS = 1000  # EventSource's reconnection delay after a drop


class BadLastEventId(ValueError):
    pass


def last_event_id(request: HttpRequest) -> int | None:
    """The id to resume after, from the `Last-Event-ID` header or `?last_event_id=`; None: start live."""
    raw = request.headers.get("Last-Event-ID")
    if raw is None:
        raw = request.GET.get("last_event_id")
    if raw is None or raw.strip() == "":
        return None
    raw = raw.strip()
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise BadLastEventId(raw)
    return int(raw)


def sse(kind: str | None, data: Any, event_id: int | None = None) -> bytes:
    """One server-sent event (data is JSON on one line, so it cannot break the framing)."""
    lines = []
    if event_id is not None:
        lines.append(f"id: {event_id}")
    if kind:
        lines.append(f"event: {kind}")
    lines.append("data: " + json.dumps(data, ensure_ascii=False, separators=(",", ":")))
    return ("\n".join(lines) + "\n\n").encode()


# --- the hub: one LISTEN connection per process, fanned out to the open streams ----------------------------
class Hub:
    """Listens on the live channel and hands every new event (read once from the table) to each subscriber.
    A lost database connection is re-opened with back-off; the events committed meanwhile are read by id on
    reconnection, so none is lost."""

    def __init__(self) -> None:
        self.subscribers: set[asyncio.Queue[dict[str, Any] | None]] = set()
        self.last_id: int | None = None
        self.task: asyncio.Task[None] | None = None
        self.listening: asyncio.Event | None = None

    def subscribe(self) -> asyncio.Queue[dict[str, Any] | None]:
        """A new subscriber's queue (None in it: closed for not reading); starts listening if needed."""
        loop = asyncio.get_running_loop()
        if self.task is not None and self.task.get_loop() is not loop:  # a new server loop (tests)
            self.task, self.subscribers = None, set()
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(QUEUE_MAX)
        self.subscribers.add(queue)
        if self.task is None or self.task.done():
            self.listening = asyncio.Event()
            self.task = loop.create_task(self._run())
        return queue

    async def stop(self) -> None:
        """Stop listening and close the database connections (server shutdown)."""
        task, self.task = self.task, None
        self.subscribers = set()
        if task is not None and task.get_loop() is asyncio.get_running_loop() and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def unsubscribe(self, queue: asyncio.Queue[dict[str, Any] | None]) -> None:
        self.subscribers.discard(queue)

    async def ready(self, timeout: float = 10.0) -> None:
        """Wait until the hub listens (its LISTEN is in place): events committed afterwards reach it."""
        assert self.listening is not None  # subscribe() first
        await asyncio.wait_for(self.listening.wait(), timeout)

    async def _run(self) -> None:
        import psycopg

        backoff = 0.5
        while self.subscribers:
            try:
                params = _connection_params()
                async with (
                    await psycopg.AsyncConnection.connect(**params, autocommit=True) as listen,
                    await psycopg.AsyncConnection.connect(**params, autocommit=True) as reader,
                ):
                    await listen.execute(f"LISTEN {events.CHANNEL}")
                    if self.last_id is None:
                        cur = await reader.execute("SELECT coalesce(max(id), 0) FROM live_liveevent")
                        row = await cur.fetchone()
                        self.last_id = int(row[0]) if row else 0
                    await self._read(reader)  # anything committed while (re)connecting
                    if self.listening is not None:
                        self.listening.set()
                    backoff = 0.5
                    async for _note in listen.notifies():
                        await self._read(reader)
                        if not self.subscribers:
                            return
            except Exception:  # noqa: BLE001 - the database restarted or the network dropped: reconnect
                logger.warning("live hub lost its database connection; reconnecting", exc_info=True)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)

    async def _read(self, reader: Any) -> None:
        cur = await reader.execute(
            f"{events.EVENT_SELECT} WHERE id > %s ORDER BY id",  # noqa: S608 - constant SQL
            [self.last_id or 0],
        )
        for row in await cur.fetchall():
            event = events.event_from_row(row)
            self.last_id = event["id"]
            for queue in list(self.subscribers):
                try:
                    queue.put_nowait(event)
                except asyncio.QueueFull:  # a client that does not read: close it, it resumes later
                    self.subscribers.discard(queue)
                    with contextlib.suppress(asyncio.QueueEmpty):
                        queue.get_nowait()
                    queue.put_nowait(None)


def _connection_params() -> dict[str, Any]:
    """Django's connection parameters for the default database (psycopg keyword arguments). Read from a
    new, unconnected wrapper: no I/O, so the hub calls it from the event loop — it must not go through
    sync_to_async, whose executor belongs to the request that started the hub and is gone on reconnect."""
    params = connections.create_connection(DEFAULT_DB_ALIAS).get_connection_params()
    return {k: v for k, v in params.items() if k not in ("cursor_factory", "context", "prepare_threshold")}


HUB = Hub()


# --- the view ------------------------------------------------------------------------------------------------
def _error(status: int, message: str) -> JsonResponse:
    response = JsonResponse({"detail": message}, status=status, json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = "no-store"
    return response


def _prepare(user: Any, after: int | None) -> tuple[Audience, list[dict[str, Any]] | None, int]:
    """(audience, the events to replay or None for a reset, the newest id) — sync, one thread."""
    try:
        audience = Audience(user).load()
        low, high = events.bounds()
        if after is None:
            return audience, [], high
        if after < low or after > high or high - after > REPLAY_MAX:
            return audience, None, high
        return audience, events.events_after(after, REPLAY_MAX), high
    finally:
        close_old_connections()


async def _refresh(audience: Audience) -> None:
    def load() -> None:
        try:
            audience.load()
        finally:
            close_old_connections()

    await sync_to_async(load)()


async def events_view(request: HttpRequest) -> HttpResponseBase:
    """GET /live/events: the signed-in person's live events as text/event-stream (see module doc)."""
    response = await _events(request)
    if origin := client.cors_origin(request):  # the dashboard's page is on the web server's port
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Credentials"] = "true"
    patch_vary_headers(response, ("Origin",))
    return response


async def _events(request: HttpRequest) -> HttpResponseBase:
    if request.method != "GET":
        return _error(405, _("Chỉ nhận GET."))
    user = await request.auser()
    if not user.is_authenticated:
        return _error(401, _("Cần đăng nhập (phiên hoặc khóa API) để nhận cập nhật trực tiếp."))
    try:
        after = last_event_id(request)
    except BadLastEventId:
        return _error(400, _("Last-Event-ID phải là số nguyên không âm (mã sự kiện cuối cùng đã nhận)."))
    if not isinstance(request, ASGIRequest):  # gunicorn: a stream would hold a sync worker for minutes
        if "text/event-stream" in request.headers.get("Accept", ""):
            # EventSource's "no stream here, do not retry" (HTML spec): the page then polls, with no error.
            return HttpResponse(status=204)
        return _error(404, _("Luồng cập nhật trực tiếp do máy chủ trực tiếp (uvicorn, gis_ioc.asgi) phục vụ."))
    queue = HUB.subscribe()
    try:
        await HUB.ready()
        audience, replay, newest = await sync_to_async(_prepare)(user, after)
    except TimeoutError:  # the database does not answer: the page polls meanwhile (dashboard/js/live.js)
        HUB.unsubscribe(queue)
        unavailable = _error(503, _("Cơ sở dữ liệu chưa sẵn sàng; cập nhật trực tiếp sẽ thử lại sau."))
        unavailable["Retry-After"] = "10"
        return unavailable
    except Exception:
        HUB.unsubscribe(queue)
        raise
    stream = _stream(queue, audience, replay, newest)
    response: HttpResponseBase = StreamingHttpResponse(stream, content_type="text/event-stream; charset=utf-8")
    response["Cache-Control"] = "no-store"
    response["X-Accel-Buffering"] = "no"  # nginx: do not buffer the stream
    return response


async def _stream(
    queue: asyncio.Queue[dict[str, Any] | None],
    audience: Audience,
    replay: list[dict[str, Any]] | None,
    newest: int,
) -> AsyncIterator[bytes]:
    loop = asyncio.get_running_loop()
    ends_at = loop.time() + MAX_SECONDS
    sent = 0
    try:
        yield f"retry: {RETRY_MS}\n\n".encode()
        if replay is None:
            sent = newest
            yield sse("reset", {"newest": newest}, newest)
        elif not replay:
            sent = newest
            yield sse("hello", {"newest": newest}, newest)
        for event in replay or ():
            sent = event["id"]
            seen = audience.view(event)
            if seen is not None:
                yield sse(None, seen, event["id"])
        if replay:
            # The replay may end before `newest` (events for others): say where this client is.
            yield sse("hello", {"newest": sent}, sent)
        while (left := ends_at - loop.time()) > 0:
            try:
                async with asyncio.timeout(min(KEEPALIVE_SECONDS, left)):
                    item = await queue.get()
            except TimeoutError:
                # An id without data sets the browser's last event id without dispatching anything: a
                # person who receives few of the events resumes from here, not from his last own event.
                yield f": keepalive\nid: {sent}\n\n".encode()
                continue
            if item is None:  # dropped by the hub for reading too slowly
                return
            event = item
            if event["id"] <= sent:
                continue
            if audience.stale:
                await _refresh(audience)
            sent = event["id"]
            seen = audience.view(event)
            if seen is not None:
                yield sse(None, seen, event["id"])
    finally:
        HUB.unsubscribe(queue)
