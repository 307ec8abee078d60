"""REST doors of the import pipeline: POST /api/v1/imports/ (multipart) queues a job; GET …/{id}/ polls it."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.http import FileResponse, Http404
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from gis_ioc import jobqueue
from gis_ioc.permissions import is_admin
from layers.importers import jobs
from layers.importers.safety import ImportRefused, max_upload_bytes
from layers.models import ImportJob


def _job_for(request: Request, pk: int) -> ImportJob:
    job = ImportJob.objects.filter(pk=pk).select_related("layer").first()
    if job is None or not (is_admin(request.user) or job.created_by_id == request.user.pk):
        raise Http404
    return job


class ImportCollection(APIView):
    """List your import jobs, or upload a file to import (fields: file, target, mapping, layer, srid,
    encoding, swap_xy, key, skip_bad_rows, title, x_field, y_field, wkt_field, preview_only)."""

    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    def get(self, request: Request) -> Response:
        qs = ImportJob.objects.select_related("layer")
        if not is_admin(request.user):
            qs = qs.filter(created_by=request.user)
        return Response([j.as_dict() for j in qs[:50]])

    def post(self, request: Request) -> Response:
        if not jobs.can_import(request.user):
            return Response({"detail": _("Chỉ cán bộ GIS được nhập dữ liệu.")}, status=status.HTTP_403_FORBIDDEN)
        length = int(request.META.get("CONTENT_LENGTH") or 0)
        if length > max_upload_bytes() + 1024 * 1024:  # refuse before reading a body that is far too large
            return Response(
                {"detail": _("Tệp vượt giới hạn %(limit)d MB.") % {"limit": max_upload_bytes() // 2**20}},
                status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            )
        upload = request.FILES.get("file")
        if upload is None:
            return Response({"detail": _("Thiếu tệp (trường file).")}, status=status.HTTP_400_BAD_REQUEST)
        try:
            options = jobs.options_from(request.data)
            job = jobs.create_job(upload, options, request.user)
        except ImportRefused as exc:
            code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE if "vượt giới hạn" in str(exc) else 400
            return Response({"detail": str(exc)}, status=code)
        preview_only = str(request.data.get("preview_only", "")).lower() in ("1", "true", "yes", "on")
        if preview_only:
            return Response({**job.as_dict(), "preview": job.preview}, status=status.HTTP_201_CREATED)
        return _commit(request, job, options)


def _commit(request: Request, job: ImportJob, options: jobs.ImportOptions) -> Response:
    try:
        jobs.validate_target(options, job.preview, request.user)
    except PermissionError as exc:
        _drop(job)
        return Response({"detail": str(exc)}, status=status.HTTP_403_FORBIDDEN)
    except ImportRefused as exc:
        _drop(job)
        return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
    job.options = options.as_dict()
    jobs.enqueue(job)
    return Response(
        jobqueue.with_worker_notice({**job.as_dict(), "preview": job.preview}), status=status.HTTP_202_ACCEPTED
    )


def _drop(job: ImportJob) -> None:
    """A job refused before queueing leaves nothing behind."""
    jobs.discard(Path(job.file_path))
    job.delete()


class ImportDetail(APIView):
    """Status, percent and report of one import job; POST commits a previewed job with (new) options."""

    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    def get(self, request: Request, pk: int) -> Response:
        job = _job_for(request, pk)
        return Response(jobqueue.with_worker_notice({**job.as_dict(), "preview": job.preview}))

    def post(self, request: Request, pk: int) -> Response:
        job = _job_for(request, pk)
        if job.status != ImportJob.Status.UPLOADED:
            return Response({"detail": _("Lượt nhập này đã được xử lý.")}, status=status.HTTP_409_CONFLICT)
        try:
            options = jobs.options_from(request.data)
            jobs.validate_target(options, job.preview, request.user)
        except PermissionError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_403_FORBIDDEN)
        except ImportRefused as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
        job.options = options.as_dict()
        jobs.enqueue(job)
        return Response(jobqueue.with_worker_notice(job.as_dict()), status=status.HTTP_202_ACCEPTED)


class ImportRejects(APIView):
    """The rows an import skipped (skip-bad-rows mode), as CSV: row, field, reason, values, WKT."""

    permission_classes = [IsAuthenticated]

    def get(self, request: Request, pk: int) -> FileResponse:
        job = _job_for(request, pk)
        if not job.rejects_path:
            raise Http404
        path = Path(settings.MEDIA_ROOT) / job.rejects_path
        return FileResponse(
            open(path, "rb"),
            as_attachment=True,
            filename=f"rejects-{job.pk}.csv",
            content_type="text/csv; charset=utf-8",
        )
