"""The job queue as people see it: are workers alive, how long has the oldest job waited.

Procrastinate (3.x) registers every running worker in `procrastinate_workers` and bumps its
`last_heartbeat` every 10 s; a worker that has not beaten for `STALLED_AFTER` seconds is dead (the
same rule procrastinate uses to prune stalled workers and the reapers use to fail their jobs). The
table does not say which queues a worker listens to, so "alive" means "any worker"; a queue whose
oldest job keeps ageing while workers are alive shows up in `report()` instead.
"""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.utils.translation import gettext_lazy as _

# procrastinate's default stalled_worker_timeout: three missed 10-second heartbeats.
STALLED_AFTER = 30

NO_WORKER_MESSAGE = _(
    "Chưa có tiến trình xử lý nào đang chạy: phân tích và lượt nhập sẽ ở trạng thái chờ cho đến khi "
    "có. Hãy chạy nền tảng bằng `make demo` (hoặc `manage.py procrastinate worker`), hoặc báo quản trị "
    "hệ thống."
)


def workers_alive() -> int:
    """How many procrastinate workers have sent a heartbeat in the last STALLED_AFTER seconds."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM procrastinate_workers WHERE last_heartbeat > now() - make_interval(secs => %s)",
            [STALLED_AFTER],
        )
        return int(cursor.fetchone()[0])


def report() -> dict[str, Any]:
    """Workers alive, and per queue the waiting/running job counts and the oldest waiting job's age (s)."""
    queues: dict[str, dict[str, Any]] = {}
    with connection.cursor() as cursor:
        # A `todo` job waits since its last event (deferred, or put back for a retry) or its scheduled
        # time, whichever is later; one scheduled for later is not waiting yet.
        cursor.execute(
            """
            SELECT queue_name,
                   count(*) FILTER (WHERE status = 'todo' AND ready_at <= now()),
                   count(*) FILTER (WHERE status = 'doing'),
                   extract(epoch FROM now() - min(ready_at) FILTER (WHERE status = 'todo' AND ready_at <= now()))
            FROM (
                SELECT j.queue_name, j.status, GREATEST(
                           j.scheduled_at, (SELECT max(e.at) FROM procrastinate_events e WHERE e.job_id = j.id)
                       ) AS ready_at
                FROM procrastinate_jobs j WHERE j.status IN ('todo', 'doing')
            ) AS live
            GROUP BY queue_name ORDER BY queue_name
            """
        )
        for name, waiting, running, oldest in cursor.fetchall():
            queues[name] = {
                "waiting": waiting,
                "running": running,
                "oldest_waiting_seconds": round(float(oldest), 1) if oldest is not None else None,
            }
    ages = [q["oldest_waiting_seconds"] for q in queues.values() if q["oldest_waiting_seconds"] is not None]
    return {
        "workers_alive": workers_alive(),
        "waiting": sum(q["waiting"] for q in queues.values()),
        "running": sum(q["running"] for q in queues.values()),
        "oldest_waiting_seconds": max(ages) if ages else None,
        "queues": queues,
    }


def no_worker_notice() -> str:
    """The Vietnamese sentence pages and API answers show when no worker is alive, else ""."""
    return "" if workers_alive() else str(NO_WORKER_MESSAGE)


def with_worker_notice(data: dict[str, Any]) -> dict[str, Any]:
    """An API answer about a queued job, with `worker_notice` (the sentence above) when no worker is alive."""
    if data.get("status") == "queued" and (notice := no_worker_notice()):
        data["worker_notice"] = notice
    return data


def fail_stalled_jobs(queue: str, task_name: str, seconds_since_heartbeat: float = STALLED_AFTER) -> list[Any]:
    """Mark failed the `doing` jobs of a task whose worker stopped beating, and return them (procrastinate
    jobs, with their `id` and `task_kwargs`) so the caller fails its own records. PostgreSQL already rolled
    back what the dead worker's transaction wrote; only the records need fixing. The one reaper mechanism
    of every job kind (analyses, imports)."""
    from asgiref.sync import async_to_sync
    from procrastinate.contrib.django import app
    from procrastinate.jobs import Status

    stalled = async_to_sync(app.job_manager.get_stalled_jobs)(
        queue=queue, task_name=task_name, seconds_since_heartbeat=seconds_since_heartbeat
    )
    failed = []
    for job in stalled:
        assert job.id is not None  # read back from the queue table: only jobs not yet deferred lack an id
        async_to_sync(app.job_manager.finish_job_by_id_async)(job_id=job.id, status=Status.FAILED, delete_job=False)
        failed.append(job)
    return failed
