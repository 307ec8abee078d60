"""The import page for GIS staff: upload → preview (decoded values, CRS and encoding choices, field
mapping) → queued job with a progress bar that polls the API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from gis_ioc import jobqueue
from gis_ioc.permissions import is_admin
from layers.importers import encodings, jobs
from layers.importers.crs import crs_name
from layers.importers.safety import ImportRefused, max_upload_bytes
from layers.importers.targets import RESERVED
from layers.models import ImportJob, ImportMapping, Layer


def _targets(user: Any) -> list[Layer]:
    """Sector and imported layers this user may import into."""
    return [
        layer
        for layer in Layer.objects.vector().exclude(source_model="gis_ioc.AdminUnit")
        if (layer.source_table or (layer.model_class() and hasattr(layer.model_class(), "locate_by")))
        and jobs.can_import(user, layer)
    ]


def _own_job(request: HttpRequest, pk: int) -> ImportJob:
    job = get_object_or_404(ImportJob, pk=pk)
    if not (is_admin(request.user) or job.created_by_id == request.user.pk):
        raise PermissionDenied
    return job


@login_required
@require_http_methods(["GET", "POST"])
def imports_home(request: HttpRequest) -> HttpResponse:
    """Upload form and the user's recent imports."""
    if not jobs.can_import(request.user):
        raise PermissionDenied(_("Chỉ cán bộ GIS được nhập dữ liệu."))
    error = ""
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            error = _("Hãy chọn một tệp.")
        else:
            try:
                job = jobs.create_job(upload, jobs.options_from(request.POST), request.user)
                return redirect("import-detail", pk=job.pk)
            except ImportRefused as exc:
                error = str(exc)
    recent = ImportJob.objects.filter(created_by_id=request.user.pk).select_related("layer")[:20]
    return render(
        request,
        "imports/home.html",
        {
            "recent": recent,
            "error": error,
            "limit_mb": max_upload_bytes() // 2**20,
            "targets": _targets(request.user),
            # Said before anyone waits in vain: without a worker, an import stays queued.
            "no_worker": jobqueue.no_worker_notice(),
        },
        status=400 if error else 200,
    )


def _mapping_rows(job: ImportJob, target: Layer | None) -> list[dict[str, Any]]:
    """One row per target field of a sector layer, with the file column chosen (or guessed by name)."""
    model = target.model_class() if target and not target.source_table else None
    if model is None:
        return []
    chosen = job.options.get("mapping") or {}
    columns = [f["name"] for f in job.preview.get("fields", [])]
    rows = []
    for f in model._meta.concrete_fields:
        if f.name in RESERVED or f.primary_key or hasattr(f, "geom_type"):
            continue
        guess = chosen.get(f.name) or next((c for c in columns if c.lower() == f.name.lower()), "")
        rows.append(
            {"name": f.name, "label": str(f.verbose_name), "required": not (f.null or f.has_default()), "choice": guess}
        )
    return rows


@login_required
@require_http_methods(["GET", "POST"])
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Preview and options of an uploaded file; POST "preview" re-reads it, POST "commit" queues the import."""
    job = _own_job(request, pk)
    error = ""
    if request.method == "POST" and job.status == ImportJob.Status.UPLOADED:
        data = request.POST.copy()
        mapping = {k[4:]: v for k, v in request.POST.items() if k.startswith("map:") and v}
        if mapping:
            data["mapping"] = ",".join(f"{k}={v}" for k, v in mapping.items())
        try:
            options = jobs.options_from(data)
            job.options = options.as_dict()
            if "commit" in request.POST:
                jobs.validate_target(options, job.preview, request.user)
                if request.POST.get("save_mapping"):
                    jobs.save_mapping(request.POST["save_mapping"].strip(), options, request.user)
                jobs.enqueue(job)
                return redirect("import-detail", pk=job.pk)
            job.preview = jobs.inspect_file(Path(job.file_path), job.original_name, options)
            job.save(update_fields=["options", "preview"])
        except (ImportRefused, PermissionError) as exc:
            error = str(exc)
    target_slug = job.options.get("target") or ""
    target = Layer.objects.filter(slug=target_slug).first() if not target_slug.startswith("new:") else None
    crs = job.preview.get("crs") or {}
    context = {
        "job": job,
        "p": job.preview,
        "error": error,
        "targets": _targets(request.user),
        "target": target,
        "mapping_rows": _mapping_rows(job, target),
        "columns": [f["name"] for f in job.preview.get("fields", [])],
        "crs_choices": [(c, crs_name(c)) for c in (crs.get("candidates") or [])[:8]],
        "encodings": list(encodings.ENCODING_LABELS.items()),
        "encoding_samples": (job.preview.get("encoding_samples") or {}).items(),
        "saved_mappings": ImportMapping.objects.all()[:50],
        "no_worker": jobqueue.no_worker_notice() if job.status in (job.Status.UPLOADED, job.Status.QUEUED) else "",
    }
    return render(request, "imports/detail.html", context, status=400 if error else 200)
