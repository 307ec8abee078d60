"""Import jobs: receive an upload, preview it, queue it, run it with progress, and recover from dead workers.

The web page and the API share these functions; the management command calls the pipeline directly.
Progress is written through a second, autocommitting connection so pollers see it while the import's own
transaction is still open; the final "succeeded" is written inside that transaction, with the data.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gis_ioc.lib.errors import without_paths
from layers.importers.base import ImportOptions
from layers.importers.pipeline import ImportRejected, open_source, preview, run_import
from layers.importers.safety import ImportRefused, check_upload, max_upload_bytes
from layers.models import ImportJob, ImportMapping, Layer

log = logging.getLogger(__name__)
QUEUE = "imports"
LOST_WORKER = _(
    "Tiến trình nhập dữ liệu đã dừng đột ngột (mất tín hiệu từ worker); dữ liệu dở dang đã bị huỷ, "
    "cơ sở dữ liệu không thay đổi. Hãy chạy lại."
)


def upload_root() -> Path:
    return Path(settings.MEDIA_ROOT) / "imports" / "uploads"


def safe_name(name: str) -> str:
    """The file name without directories or odd characters (the extension is what matters)."""
    base = Path(name.replace("\\", "/")).name
    return re.sub(r"[^\w.\-]+", "_", base)[:120] or "upload"


def store_upload(upload: UploadedFile) -> Path:
    """Copy an upload under MEDIA_ROOT/imports/uploads/<uuid>/, refusing it past the size limit."""
    limit = max_upload_bytes()
    if upload.size is not None and upload.size > limit:
        raise ImportRefused(
            _("Tệp %(name)s lớn %(size)d MB, vượt giới hạn %(limit)d MB.")
            % {"name": upload.name, "size": upload.size // 2**20, "limit": limit // 2**20}
        )
    folder = upload_root() / uuid.uuid4().hex
    folder.mkdir(parents=True)
    path = folder / safe_name(upload.name or "upload")
    with open(path, "wb") as fh:
        for chunk in upload.chunks():
            fh.write(chunk)
    return path


def discard(path: Path) -> None:
    shutil.rmtree(path.parent, ignore_errors=True)


def shown_names(path: Path, name: str) -> dict[str, str]:
    """The names the server gave a stored upload, mapped to the one the user gave it (for messages)."""
    return {path.name: name, "source" + Path(name).suffix.lower(): name}


@contextmanager
def named_as_uploaded(path: Path, name: str) -> Iterator[None]:
    """An ImportRefused raised inside names the user's file, never where or how the server stored it."""
    try:
        yield
    except ImportRefused as exc:
        exc.args = (without_paths(str(exc), shown_names(path, name)), *exc.args[1:])
        raise


def inspect_file(path: Path, name: str, options: ImportOptions) -> dict[str, Any]:
    """Preview of a stored file (raises ImportRefused with a readable message)."""
    workdir = path.parent / "inspect"
    try:
        with named_as_uploaded(path, name):
            return preview(open_source(path, name, options, workdir))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def create_job(upload: UploadedFile, options: ImportOptions, user: Any) -> ImportJob:
    """Store and preview an upload; a refused file leaves nothing behind (no job, no file)."""
    path = store_upload(upload)
    try:
        check_upload(path, upload.name)
        summary = inspect_file(path, upload.name or path.name, options)
    except Exception:
        discard(path)
        raise
    return ImportJob.objects.create(
        created_by=user if getattr(user, "pk", None) else None,
        original_name=upload.name or path.name,
        file_path=str(path),
        file_size=path.stat().st_size,
        options=options.as_dict(),
        preview=summary,
    )


def parse_mapping(value: Any) -> dict[str, str]:
    """A mapping from a dict, JSON text, "field=COLUMN,…" text, or the name of a saved mapping."""
    if not value:
        return {}
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items() if v}
    text = str(value).strip()
    if text.startswith("{"):
        try:
            return {str(k): str(v) for k, v in json.loads(text).items() if v}
        except (ValueError, AttributeError) as exc:
            raise ImportRefused(_("Ánh xạ trường không phải JSON hợp lệ: %(err)s") % {"err": exc}) from exc
    if "=" in text:
        pairs = [p.split("=", 1) for p in text.split(",") if p.strip()]
        return {k.strip(): v.strip() for k, v in pairs}
    saved = ImportMapping.objects.filter(name=text).first()
    if saved is None:
        raise ImportRefused(_("Không có mẫu ánh xạ tên %(name)s.") % {"name": text})
    return dict(saved.fields)


def enqueue(job: ImportJob) -> ImportJob:
    """Queue the job on procrastinate (queue "imports"), in the same transaction as its status."""
    from layers.tasks import run_import_job

    with transaction.atomic():
        job.status = ImportJob.Status.QUEUED
        job.percent = 0
        job.message = ""
        job.save(update_fields=["status", "percent", "message", "options"])
        job.queue_job_id = run_import_job.defer(import_job_id=job.pk)
        job.save(update_fields=["queue_job_id"])
    return job


class DbProgress:
    """Writes percent/message of a job through its own autocommit connection, at most twice a second."""

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id
        self.last = 0.0
        self.percent = 0
        params = connection.settings_dict
        self.conn: psycopg.Connection[Any] | None = None
        try:
            self.conn = psycopg.connect(
                dbname=params["NAME"],
                user=params["USER"],
                password=params["PASSWORD"],
                host=params["HOST"] or None,
                port=params["PORT"] or None,
                autocommit=True,
            )
        except psycopg.Error:  # progress is a courtesy; the import must not fail for it
            log.warning("import %s: no progress connection", job_id)

    def __call__(self, percent: int, message: str) -> None:
        now = time.monotonic()
        # Write every phase change (a 5-point step) at once, small steps at most twice a second.
        if self.conn is None or (now - self.last < 0.5 and percent - self.percent < 5 and percent < 100):
            return
        self.last, self.percent = now, percent
        self.conn.execute(
            "UPDATE layers_importjob SET percent = %s, message = %s WHERE id = %s AND status = 'running'",
            [percent, message[:500], self.job_id],
        )

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


def execute(job_id: int) -> ImportJob:
    """Run a queued job to its end; the job row says how it ended (never raises for bad input)."""
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    if job.is_finished:
        return job
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING, started_at=timezone.now(), percent=1)
    options = ImportOptions.from_dict(job.options)
    progress = DbProgress(job.pk)

    def succeeded(report: dict[str, Any]) -> None:
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJob.Status.SUCCEEDED,
            percent=100,
            report=report,
            finished_at=timezone.now(),
            rejects_path=report.get("rejects_file") or "",
            message=_("Đã nhập %(n)d, cập nhật %(u)d, loại %(r)d dòng.")
            % {"n": report["inserted"], "u": report["updated"], "r": report["rejected"]},
            layer=Layer.objects.filter(slug=report.get("target")).first(),
        )

    stored = Path(job.file_path)
    try:
        with named_as_uploaded(stored, job.original_name):
            run_import(stored, job.original_name, options, user=job.created_by, progress=progress, on_success=succeeded)
    except ImportRejected as exc:
        ImportJob.objects.filter(pk=job.pk).update(report=exc.report)
        job.fail(str(exc))
    except ImportRefused as exc:
        job.fail(str(exc))
    except Exception as exc:  # noqa: BLE001 - an unexpected error must still end the job, with its reason
        log.exception("import job %s failed", job.pk)  # the log keeps the paths; the user sees file names
        reason = without_paths(str(exc), shown_names(stored, job.original_name))[:500]
        job.fail(_("Lỗi không mong đợi khi nhập: %(err)s") % {"err": reason})
    finally:
        progress.close()
    job.refresh_from_db()
    return job


def reap(seconds_since_heartbeat: float = 30) -> list[int]:
    """Fail the import jobs whose worker died (no heartbeat): PostgreSQL already rolled their data back."""
    from gis_ioc.jobqueue import fail_stalled_jobs

    reaped: list[int] = []
    for qjob in fail_stalled_jobs(QUEUE, "layers.import", seconds_since_heartbeat):
        kwargs = qjob.task_kwargs
        if isinstance(kwargs, str):  # the Django connector may hand the JSON column over as text
            kwargs = json.loads(kwargs)
        job_id = kwargs.get("import_job_id")  # an int: the task is deferred with the job's pk
        if isinstance(job_id, int) and ImportJob.objects.filter(
            pk=job_id, status__in=[ImportJob.Status.QUEUED, ImportJob.Status.RUNNING]
        ).update(status=ImportJob.Status.FAILED, message=LOST_WORKER, finished_at=timezone.now()):
            reaped.append(job_id)
    return reaped


def can_import(user: Any, layer: Layer | None = None) -> bool:
    """The import rule lives in the one permission module; kept here for the import doors' imports."""
    from gis_ioc.permissions import can_import as rule

    return rule(user, layer)


def options_from(data: Any) -> ImportOptions:
    """ImportOptions from form/API fields (strings), with readable errors for bad values."""
    from layers.importers import encodings

    def text(name: str) -> str:
        value = data.get(name)
        return str(value).strip() if value not in (None, "") else ""

    srid = text("srid")
    if srid and not srid.isdigit():
        raise ImportRefused(_("Mã hệ toạ độ (EPSG) phải là số, ví dụ 5899."))
    encoding = text("encoding")
    if encoding and encoding not in encodings.ENCODINGS:
        raise ImportRefused(
            _("Bảng mã %(e)s không được hỗ trợ; chọn một trong: %(list)s.")
            % {"e": encoding, "list": ", ".join(encodings.ENCODINGS)}
        )
    swap = text("swap_xy").lower()
    return ImportOptions(
        target=text("target"),
        layer=text("layer") or None,
        srid=int(srid) if srid else None,
        swap_xy=None if swap in ("", "auto") else swap in ("1", "true", "on", "yes"),
        encoding=encoding or None,
        mapping=parse_mapping(data.get("mapping")),
        key=[k.strip() for k in text("key").split(",") if k.strip()],
        skip_bad_rows=text("skip_bad_rows").lower() in ("1", "true", "on", "yes"),
        title=text("title"),
        x_field=text("x_field") or None,
        y_field=text("y_field") or None,
        wkt_field=text("wkt_field") or None,
    )


def validate_target(options: ImportOptions, summary: dict[str, Any], user: Any) -> None:
    """Check target, rights and mapping against the previewed fields before anything is queued."""
    from layers.importers.base import SourceInfo
    from layers.importers.pipeline import make_target

    if not options.target:
        raise ImportRefused(_("Hãy chọn lớp đích: một lớp có sẵn hoặc new:<mã lớp mới>."))
    if summary.get("raster"):
        if not options.target.startswith("new:"):
            raise ImportRefused(_("Ảnh GeoTIFF chỉ nhập thành lớp mới (new:<mã lớp>)."))
        return
    layer = None if options.target.startswith("new:") else Layer.objects.filter(slug=options.target).first()
    if not can_import(user, layer):
        raise PermissionError(_("Bạn không có quyền nhập dữ liệu vào lớp này."))
    info = SourceInfo(
        format=summary.get("format", ""),
        layers=[],
        layer=None,
        fields=[(f["name"], None) for f in summary.get("fields", [])],
        count=None,
        declared_srid=None,
        bounds=None,
    )
    make_target(options, info, user)


def save_mapping(name: str, options: ImportOptions, user: Any) -> ImportMapping:
    """Save the options' mapping under a name for the next file of the same kind."""
    mapping, _created = ImportMapping.objects.update_or_create(
        name=name,
        defaults={
            "target": options.target,
            "fields": options.mapping,
            "key_fields": options.key,
            "encoding": options.encoding or "",
            "srid": options.srid,
            "created_by": user if getattr(user, "pk", None) else None,
        },
    )
    return mapping
