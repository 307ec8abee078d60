"""Rate limits and size caps for the public endpoints, shared by every gunicorn process.

Counters live in PostgreSQL (one row per client key and minute, incremented by an atomic
INSERT … ON CONFLICT DO UPDATE … RETURNING), so four worker processes see the same count: a
per-process cache would let a flood through four times over. Old windows are pruned now and then.
"""

from __future__ import annotations

import datetime as dt
import functools
import random
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from gis_ioc.lib.client_ip import client_ip
from petitions.conf import conf

WINDOW_SECONDS = 60


@dataclass(frozen=True)
class Refusal:
    status: int
    message: str
    retry_after: int | None = None


def hit(key: str, window_seconds: int = WINDOW_SECONDS) -> tuple[int, int]:
    """Count one request for the key in the current window; returns (count, seconds until the window ends)."""
    now = timezone.now()
    epoch = int(now.timestamp())
    start = epoch - epoch % window_seconds
    window_start = dt.datetime.fromtimestamp(start, tz=dt.UTC)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO petitions_throttlecounter (key, window_start, count) VALUES (%s, %s, 1)
            ON CONFLICT (key, window_start) DO UPDATE SET count = petitions_throttlecounter.count + 1
            RETURNING count
            """,
            [key[:120], window_start],
        )
        count = cursor.fetchone()[0]
        if random.random() < 0.01:  # noqa: S311 - pruning cadence, not security
            cursor.execute(
                "DELETE FROM petitions_throttlecounter WHERE window_start < %s",
                [now - dt.timedelta(hours=1)],
            )
    return count, start + window_seconds - epoch


def size_refusal(request: HttpRequest, cap: int) -> Refusal | None:
    """413 before the body is read when the declared length is over the cap."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return Refusal(400, _("Content-Length không hợp lệ."))
    if length > cap:
        return Refusal(
            413, _("Yêu cầu quá lớn (%(s).1f MB); tối đa %(c).1f MB.") % {"s": length / 1048576, "c": cap / 1048576}
        )
    return None


def check(request: HttpRequest, scope: str, *, write: bool = False, max_bytes: int | None = None) -> Refusal | None:
    """None when the request may go on; otherwise the status (413/429) and a message to send back."""
    cfg = conf()
    cap = max_bytes if max_bytes is not None else (cfg.max_request_bytes if write else cfg.max_json_bytes)
    if refusal := size_refusal(request, cap):
        return refusal
    limit = cfg.submit_per_minute if write else cfg.read_per_minute
    count, retry = hit(f"{'w' if write else 'r'}:{scope}:{client_ip(request)}")
    if count > limit:
        return Refusal(
            429,
            _("Quá nhiều yêu cầu từ địa chỉ của bạn (%(n)d/phút). Vui lòng thử lại sau %(s)d giây.")
            % {"n": limit, "s": retry},
            retry_after=retry,
        )
    return None


def throttled(scope: str, *, write_methods: tuple[str, ...] = ()) -> Any:
    """Decorator for small public views: 413/429 as plain text before the view runs.

    Requests whose method is in `write_methods` count against the (lower) submission limit."""

    def decorate(view: Any) -> Any:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            refusal = check(request, scope, write=request.method in write_methods)
            if refusal is not None:
                response = HttpResponse(
                    refusal.message, status=refusal.status, content_type="text/plain; charset=utf-8"
                )
                if refusal.retry_after:
                    response["Retry-After"] = str(refusal.retry_after)
                return response
            return view(request, *args, **kwargs)

        return wrapper

    return decorate
