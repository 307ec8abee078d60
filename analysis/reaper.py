"""Stalled-run recovery: an analysis whose worker died (kill -9, lost machine) stays "running" forever
unless someone notices. The worker's heartbeat in procrastinate's table is the signal: a `doing` job of a
worker without a recent heartbeat is stalled. Its result transaction was rolled back by PostgreSQL when
the connection dropped, so only the records need fixing."""

from __future__ import annotations

from asgiref.sync import async_to_sync
from django.utils import timezone
from procrastinate.contrib.django import app
from procrastinate.jobs import Status

from analysis.models import Analysis

LOST_WORKER = (
    "Tiến trình xử lý đã dừng đột ngột (mất tín hiệu từ worker) khi phân tích đang chạy; "
    "kết quả dở dang đã bị hủy. Hãy chạy lại phân tích."
)


def reap(seconds_since_heartbeat: float = 30, stale_queued_hours: float | None = None) -> list[int]:
    """Mark the analyses of stalled jobs failed (and the jobs too); returns the analysis ids."""
    stalled = async_to_sync(app.job_manager.get_stalled_jobs)(
        queue="analysis", task_name="analysis.run", seconds_since_heartbeat=seconds_since_heartbeat
    )
    reaped: list[int] = []
    for job in stalled:
        analysis_id = job.task_kwargs.get("analysis_id")
        async_to_sync(app.job_manager.finish_job_by_id_async)(job_id=job.id, status=Status.FAILED, delete_job=False)
        if analysis_id is None:
            continue
        updated = Analysis.objects.filter(pk=analysis_id, status__in=["queued", "running"]).update(
            status=Analysis.Status.FAILED, error=LOST_WORKER, finished_at=timezone.now()
        )
        if updated:
            reaped.append(analysis_id)
    return reaped
