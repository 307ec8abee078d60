"""Procrastinate jobs of the petitions app: training the triage model (queue "analysis", whose worker runs
under `make demo`; the desk's model page defers it, `manage.py train_triage` runs it at once)."""

from __future__ import annotations

import logging

from django.db import close_old_connections
from procrastinate.contrib.django import app

from petitions import triage

log = logging.getLogger(__name__)


@app.task(queue="analysis", name="petitions.train_triage", queueing_lock="train-triage")
def train_triage() -> None:
    """Train a new triage model from the labelled petitions; when it cannot be done, say why in the log
    (the model page shows the last training's outcome from its row, the old model stays in use)."""
    close_old_connections()
    try:
        row = triage.train()
        log.info("triage model %s: macro-F1 %.3f", row.pk, row.metrics["macro_f1"])
    except triage.TriageError as exc:
        log.warning("triage not trained: %s", exc)
    finally:
        close_old_connections()
