"""Procrastinate jobs of the analysis app (queue "analysis"; worker: `manage.py procrastinate worker`)."""

from __future__ import annotations

from django.db import close_old_connections
from procrastinate import JobContext
from procrastinate.contrib.django import app

from analysis import reaper, runner


@app.task(queue="analysis", name="analysis.run", pass_context=True)
def run_analysis(context: JobContext, analysis_id: int) -> None:
    """Run one analysis; its record tells the outcome (a failed analysis is a finished job)."""
    close_old_connections()  # a worker thread may hold a connection the server has closed
    try:
        runner.execute(analysis_id, job_id=context.job.id)
    finally:
        close_old_connections()


@app.periodic(cron="*/5 * * * *", periodic_id="reap-analyses")
@app.task(queue="analysis", name="analysis.reap", pass_context=False)
def reap_analyses(timestamp: int) -> None:
    """Every five minutes: fail the analyses whose worker died, so they can be re-run."""
    try:
        reaper.reap()
    finally:
        close_old_connections()
