"""Stalled-run recovery: an analysis whose worker died (kill -9, lost machine) stays "running" forever
unless someone notices. The worker's heartbeat in procrastinate's table is the signal: a `doing` job of a
worker without a recent heartbeat is stalled. Its result transaction was rolled back by PostgreSQL when
the connection dropped, so only the records need fixing."""

from __future__ import annotations

from analysis.models import Analysis
from gis_ioc.jobqueue import fail_stalled_jobs

LOST_WORKER = (
    "Tiến trình xử lý đã dừng đột ngột (mất tín hiệu từ worker) khi phân tích đang chạy; "
    "kết quả dở dang đã bị hủy. Hãy chạy lại phân tích."
)


def reap(seconds_since_heartbeat: float = 30) -> list[int]:
    """Mark the analyses of stalled jobs failed (and the jobs too); returns the analysis ids."""
    reaped: list[int] = []
    for job in fail_stalled_jobs("analysis", "analysis.run", seconds_since_heartbeat):
        # The record keeps the id of the job that last ran it (set when it was enqueued and when it started).
        for analysis in Analysis.objects.filter(job_id=job.id, status__in=["queued", "running"]):
            analysis.mark_failed(LOST_WORKER)
            reaped.append(analysis.pk)
    return reaped
