"""PDF reports are rendered at most once per input: a cache on disk, a lock per input, a rate limit.

Chromium costs seconds of CPU and ~200 MB per rendering, and the report is open to visitors, so:

* the **key** is everything the PDF shows depends on — the commune, the period, the statistic, the
  language, what the user may see (roles and commune scope: two users who may see the same things get
  the same document) and the data version (every catalog layer's version and settings, bumped by each
  data change);
* the PDF is kept under MEDIA_ROOT/reports/pdf/<key>.pdf, shared by every server process; a PostgreSQL
  advisory lock on the key makes simultaneous requests for the same new PDF wait for one rendering;
* renderings (not cached downloads) count against IOC_REPORT_PDF_PER_MINUTE per client (the petition
  rate-limit counters, keyed by gis_ioc.lib.client_ip).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Max, Sum
from django.http import HttpRequest
from django.utils import translation

from dashboard import params
from gis_ioc import permissions
from gis_ioc.lib.client_ip import client_ip

KEEP_DAYS = 7  # older PDFs are deleted when a new one is written (the data has moved on since)


def cache_dir() -> Path:
    """Where rendered reports are kept (MEDIA_ROOT/reports/pdf)."""
    return Path(settings.MEDIA_ROOT) / "reports" / "pdf"


def data_version() -> str:
    """A fingerprint of the data behind every report: the catalog layers' versions and settings."""
    from gis_ioc.models import AdminUnit
    from layers.models import Layer

    layers = Layer.objects.aggregate(n=Count("pk"), v=Sum("version"), u=Max("updated_at"), d=Max("data_updated_at"))
    units = AdminUnit.objects.aggregate(n=Count("pk"), m=Max("pk"))
    return json.dumps([layers, units], default=str, sort_keys=True)


def report_key(request: HttpRequest, code: str | None) -> str:
    """The cache key of a report request (raises params.BadRequest on a bad period)."""
    user = request.user
    start, end = params.time_range(request)
    scope = permissions.commune_scope(user)
    parts: dict[str, Any] = {
        "code": code,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "stat": request.GET.get("stat", ""),
        "lang": translation.get_language(),
        "roles": sorted(permissions.role_names(user)),
        "superuser": bool(getattr(user, "is_superuser", False)),
        "scope": sorted(scope) if scope is not None else None,
        "data": data_version(),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def page_key(request: HttpRequest, page: str, inputs: dict[str, Any]) -> str:
    """The cache key of another printed page (the planning lookup sheet): its inputs, the language, what
    the user may see and the data version, as for a report."""
    user = request.user
    scope = permissions.commune_scope(user)
    parts: dict[str, Any] = {
        "page": page,
        "inputs": inputs,
        "lang": translation.get_language(),
        "roles": sorted(permissions.role_names(user)),
        "superuser": bool(getattr(user, "is_superuser", False)),
        "scope": sorted(scope) if scope is not None else None,
        "data": data_version(),
        "host": request.get_host(),  # the QR code links to this site
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def cached(key: str) -> bytes | None:
    """The stored PDF of this key, if any."""
    path = cache_dir() / f"{key}.pdf"
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def over_rate(request: HttpRequest) -> int | None:
    """Seconds to wait when this client has started too many renderings this minute; None when it may."""
    from petitions import throttle

    count, retry = throttle.hit(f"report-pdf:{client_ip(request)}")
    return retry if count > settings.IOC_REPORT_PDF_PER_MINUTE else None


def render_once(key: str, render: Callable[[], bytes]) -> bytes:
    """The PDF of this key: rendered by `render` unless another request did it while we waited."""
    with transaction.atomic(), connection.cursor() as cursor:
        # Same key, same lock: the second request waits for the first rendering instead of starting Chromium.
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [int(key[:15], 16)])
        found = cached(key)
        if found is not None:
            return found
        pdf = render()
        _store(key, pdf)
        return pdf


def _store(key: str, pdf: bytes) -> None:
    folder = cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    # Written whole, then renamed: a reader never sees half a PDF.
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".part")
    with os.fdopen(fd, "wb") as fh:
        fh.write(pdf)
    os.replace(tmp, folder / f"{key}.pdf")
    cutoff = time.time() - KEEP_DAYS * 86400
    for old in folder.glob("*.pdf"):
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink()
        except FileNotFoundError:
            pass  # another process pruned it first
