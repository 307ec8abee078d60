"""Export doors on the web: GET /api/v1/layers/{slug}/export?format=… (session or token) and the /exports/
form. Text formats stream as they are read; file formats are built in a temporary folder, then streamed."""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils.translation import gettext as _

from gis_ioc import permissions
from gis_ioc.models import AdminUnit
from layers import query as lq
from layers.exporters import service
from layers.exporters.formats import REGISTRY, temp_folder
from layers.exporters.rows import EXPORT_SRIDS, ExportError
from layers.models import Layer


def _error(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"detail": message}, status=status)


def export_layer(request: HttpRequest, slug: str) -> HttpResponseBase:
    """Download a layer (filtered) in the requested format and CRS, with the user's rights."""
    user = request.user  # the session's, or the API token's (gis_ioc.middleware.SignInMiddleware)
    layer = Layer.objects.filter(slug=slug, kind=Layer.Kind.VECTOR).first()
    if layer is None or not permissions.can_export_layer(user, layer):
        return _error(_("Không có lớp %(slug)s (hoặc bạn không có quyền xuất lớp này).") % {"slug": slug}, 404)
    try:
        exporter, query, srid = service.parse_request(layer, request.GET, request.GET.getlist)
        rows = service.prepare_export(layer, user, exporter, query, srid)
    except (ExportError, lq.QueryError) as exc:
        return _error(str(exc))
    except lq.LayerNotFound:
        return _error(_("Không có lớp %(slug)s.") % {"slug": slug}, 404)
    name = service.filename(layer, exporter, srid)
    if exporter.streams:
        response: HttpResponseBase = StreamingHttpResponse(exporter.chunks(rows), content_type=exporter.content_type)
    else:
        with temp_folder() as tmp:
            try:
                path = exporter.write(rows, Path(tmp))
            except ExportError as exc:
                return _error(str(exc))
            handle = open(path, "rb")  # the open handle outlives the folder's removal (POSIX)
        response = FileResponse(handle, content_type=exporter.content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
def exports_page(request: HttpRequest) -> HttpResponse:
    """A form: layer, format, CRS, communes, bbox → the download link."""
    layers = [
        layer
        for layer in Layer.objects.vector().visible_to(request.user)
        if permissions.can_export_layer(request.user, layer)
    ]
    communes = AdminUnit.objects.current().communes().order_by("name")
    scope = permissions.commune_scope(request.user)
    if scope is not None:
        communes = communes.filter(code__in=scope)
    return render(
        request,
        "imports/exports.html",
        {
            "layers": layers,
            "formats": [(c.format, c.label) for c in REGISTRY.values()],
            "srids": list(EXPORT_SRIDS.items()),
            "communes": communes,
        },
    )
