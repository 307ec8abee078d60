"""Procrastinate jobs of the layers app: imports (queue "imports"; worker: `manage.py procrastinate worker`)."""

from __future__ import annotations

from django.db import close_old_connections
from procrastinate.contrib.django import app

from layers.importers import jobs


@app.task(queue=jobs.QUEUE, name="layers.import")
def run_import_job(import_job_id: int) -> None:
    """Run one import; the ImportJob row records the outcome (bad input is a finished, failed job)."""
    close_old_connections()
    try:
        jobs.execute(import_job_id)
    finally:
        close_old_connections()


@app.periodic(cron="* * * * *", periodic_id="reap-imports")
@app.task(queue=jobs.QUEUE, name="layers.reap_imports")
def reap_imports(timestamp: int) -> None:
    """Every minute: fail the imports whose worker died mid-way (their data was rolled back)."""
    try:
        jobs.reap()
    finally:
        close_old_connections()


@app.task(queue=jobs.QUEUE, name="layers.refile_crosswalk")
def refile_crosswalk(crosswalk_id: int) -> None:
    """After a crosswalk: file the records of its closed units under the units valid on their dates."""
    from layers import refile

    close_old_connections()
    try:
        refile.run(crosswalk_id)
    finally:
        close_old_connections()
