"""Reads from a PostgreSQL streaming replica, when one is configured (`IOC_REPLICA_URL`, docs/scaling.md).

Which requests read from the replica: GET/HEAD requests of the read-only channels (`READ_ONLY_PREFIXES`:
vector tiles, feature pages of REST and OGC API, statistics and the dashboard's data, exports) — decided once
per request by `ReplicaMiddleware`. Everything else reads and writes the primary: pages, forms, sign-in, sessions, the
admin, jobs. Inside a replica request:
- the ORM reads through `ReplicaRouter`; raw SQL of those channels asks `reader()` for its connection;
- the first write (any ORM write goes to the primary) sends every later read of that request to the primary
  too, so a request always reads its own writes;
- sign-in, sessions and permissions are always read on the primary (a session made a moment ago must not be
  missing on a replica that has not replayed it yet).

A replica that is down, or lagging more than `IOC_REPLICA_MAX_LAG` seconds (default 5), is bypassed: reads go
to the primary. Its state is checked at most once a second per process (`status()`), never per query, and
reported by /healthz. Vector tiles read from the replica too, but a tile is written to the tile cache only
when the replica had replayed everything the primary had committed before the tile was read (`may_cache`):
otherwise a tile missing an edit could be cached after that edit's purge.
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.http import HttpRequest, HttpResponse

ALIAS = "replica"
# Paths whose GET/HEAD requests only read, and may read a slightly older copy of the data.
READ_ONLY_PREFIXES = ("/api/v1/layers/", "/ogc/collections/", "/dashboard/api/", "/api/v1/statistics", "/tiles/")
# Apps always read on the primary: sign-in, sessions, permissions, lockout counters, and the tile cache's
# state (generations and purge counters must be the primary's, or a purge could be missed).
PRIMARY_APPS = frozenset({"auth", "sessions", "contenttypes", "axes", "admin", "tiles"})
CHECK_EVERY = 1.0  # seconds between two checks of the replica's state in one process

# True while this request may read from the replica (set by the middleware, cleared by a write).
_use_replica: contextvars.ContextVar[bool] = contextvars.ContextVar("ioc_use_replica", default=False)


def configured() -> bool:
    return ALIAS in settings.DATABASES


@dataclass
class Status:
    configured: bool
    reachable: bool = False
    lag_seconds: float | None = None
    checked_at: float = 0.0
    error: str = ""

    @property
    def usable(self) -> bool:
        return (
            self.configured
            and self.reachable
            and self.lag_seconds is not None
            and self.lag_seconds <= settings.IOC_REPLICA_MAX_LAG
        )

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"configured": self.configured}
        if self.configured:
            body |= {
                "reachable": self.reachable,
                "lag_seconds": None if self.lag_seconds is None else round(self.lag_seconds, 3),
                "max_lag_seconds": settings.IOC_REPLICA_MAX_LAG,
                "used": self.usable,
            }
            if self.error:
                body["detail"] = self.error
        return body


_status = Status(configured=False)
_lock = threading.Lock()

# How far behind the replica is: 0 when it has replayed everything the primary has written (an idle primary
# sends nothing, so "now minus the last replayed commit" alone would grow without any lag); else the age of the
# last commit it replayed. The primary's position is read on the primary: its insert position, since with
# asynchronous commit a committed transaction may not be written out yet (WAL not yet streamed is lag too).
PRIMARY_LSN_SQL = "SELECT pg_current_wal_insert_lsn()::text"
LAG_SQL = """
SELECT pg_is_in_recovery(),
       CASE WHEN pg_last_wal_replay_lsn() >= %s::pg_lsn THEN 0
            ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) END
"""


def status(force: bool = False) -> Status:
    """The replica's state, checked at most once per CHECK_EVERY seconds in this process."""
    global _status  # noqa: PLW0603 - a per-process memo of one small record
    if not configured():
        return Status(configured=False)
    now = time.monotonic()
    if not force and _status.configured and now - _status.checked_at < CHECK_EVERY:
        return _status
    with _lock:
        try:
            with connection.cursor() as cursor:
                cursor.execute(PRIMARY_LSN_SQL)
                primary_lsn = cursor.fetchone()[0]
            with connections[ALIAS].cursor() as cursor:
                cursor.execute(LAG_SQL, [primary_lsn])
                in_recovery, lag = cursor.fetchone()
            if not in_recovery:
                _status = Status(True, True, None, now, "not a replica (pg_is_in_recovery() is false)")
            else:
                _status = Status(True, True, float(lag or 0.0), now)
        except DatabaseError as exc:
            connections[ALIAS].close()
            _status = Status(True, False, None, now, str(exc).strip().splitlines()[0][:200])
    return _status


def reading_from_replica() -> bool:
    """Does this request read from the replica now (a read-only channel, no write yet, replica usable)?"""
    return _use_replica.get() and status().usable


def reader() -> BaseDatabaseWrapper:
    """The connection raw SQL of a read-only channel should use: the replica, or the primary."""
    return connections[ALIAS] if reading_from_replica() else connection


def may_cache() -> bool:
    """Call before a read whose result will be cached: may it be? Yes when this request does not read from
    the replica, or when the replica has already replayed everything the primary has committed. Replay only
    moves forward, so every later snapshot on the replica includes those commits; checked after the read
    instead, a replica that caught up meanwhile would pass a tile read before it did, and a tile missing an
    edit would be cached after that edit's purge (tiles.cache) and stay stale."""
    if not reading_from_replica():
        return True
    try:
        with connection.cursor() as cursor:
            cursor.execute(PRIMARY_LSN_SQL)
            primary_lsn = cursor.fetchone()[0]
        with connections[ALIAS].cursor() as cursor:
            cursor.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [primary_lsn])
            return bool(cursor.fetchone()[0])
    except DatabaseError:
        return False


def wrote() -> None:
    """A write happened: the rest of this request reads the primary (its own writes)."""
    _use_replica.set(False)


class ReplicaRouter:
    """Django's database router: reads of a replica request go to the replica, writes to the primary."""

    def db_for_read(self, model: Any, **_hints: Any) -> str:
        if model._meta.app_label in PRIMARY_APPS or not reading_from_replica():
            return "default"
        return ALIAS

    def db_for_write(self, model: Any, **_hints: Any) -> str:
        if model._meta.app_label not in PRIMARY_APPS:  # those are read on the primary anyway
            wrote()
        return "default"

    def allow_relation(self, *_args: Any, **_hints: Any) -> bool:
        return True  # one database, two copies of it

    def allow_migrate(self, db: str, *_args: Any, **_hints: Any) -> bool:
        return db == "default"  # the replica follows the primary; it is never migrated


class ReplicaMiddleware:
    """Marks the GET/HEAD requests of the read-only channels as replica requests (when a replica is set)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not configured() or request.method not in ("GET", "HEAD") or not request.path.startswith(READ_ONLY_PREFIXES):
            return self.get_response(request)
        token = _use_replica.set(True)
        try:
            response = self.get_response(request)
            # Where this request's reads went at its end (a write sends the rest to the primary).
            response["X-IOC-Read-From"] = "replica" if reading_from_replica() else "primary"
        finally:
            _use_replica.reset(token)
        return response
