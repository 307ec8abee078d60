"""Procrastinate jobs of the live app."""

from __future__ import annotations

from django.db import close_old_connections
from procrastinate.contrib.django import app

from live import events


# On the imports queue: housekeeping beside the import reaper, so it needs no worker process of its own.
@app.periodic(cron="17 * * * *", periodic_id="prune-live-events")
@app.task(queue="imports", name="live.prune")
def prune_live_events(timestamp: int) -> None:
    """Every hour: delete live events older than the retention (IOC_LIVE_RETENTION_HOURS)."""
    try:
        events.prune()
    finally:
        close_old_connections()
