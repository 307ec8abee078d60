"""`/mapproxy/`: MapProxy's WSGI app mounted in Django, behind the one permission module.

Every request is checked before MapProxy sees it: a request naming a layer the user may not see (WMS
LAYERS/QUERY_LAYERS, WMTS LAYER, the REST and TMS paths) is answered as if the layer did not exist.
Capabilities documents are filtered so such layers are absent from them.
"""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from lxml import etree

from gis_ioc import permissions
from tiles import conf
from tiles import mapproxy as mp_config

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "server", "date"}
NS = {
    "wms": "http://www.opengis.net/wms",
    "wmts": "http://www.opengis.net/wmts/1.0",
    "ows": "http://www.opengis.net/ows/1.1",
}


def hidden_layers(user: Any, published: set[str]) -> set[str]:
    """MapProxy layers this user may not see (the basemap is public)."""
    from layers.models import Layer

    visible = set(permissions.visible_layers(user, Layer.objects.raster()).values_list("slug", flat=True)) | {"basemap"}
    return published - visible


def requested_layers(path: str, params: dict[str, str]) -> set[str]:
    """Layer names a MapProxy request refers to, from its KVP parameters or its REST/TMS path."""
    names: set[str] = set()
    for key in ("layers", "query_layers", "layer"):
        if params.get(key):
            names.update(n.strip() for n in params[key].split(",") if n.strip())
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 2 and parts[0] == "wmts" and parts[1] != "1.0.0":
        names.add(parts[1])
    if len(parts) >= 3 and parts[0] == "tms" and parts[1] == "1.0.0":
        names.add(parts[2].split("_EPSG")[0])
    return names


def oversized(params: dict[str, str]) -> bool:
    """A GetMap/GetFeatureInfo asking for more pixels than MapProxy may render (checked before MapProxy,
    which would answer it with a 500)."""
    if params.get("request", "").lower() not in {"getmap", "getfeatureinfo"}:
        return False
    try:
        return int(params.get("width", "0")) * int(params.get("height", "0")) > mp_config.MAX_PIXELS
    except ValueError:
        return False


def service_exception(message: str, code: str, version: str, status: int = 200) -> HttpResponse:
    """A WMS ServiceException document, as MapProxy itself would answer."""
    if version == "1.1.1":
        body = (
            '<?xml version="1.0"?>\n<ServiceExceptionReport version="1.1.1">'
            f'<ServiceException code="{code}">{escape(message)}</ServiceException></ServiceExceptionReport>'
        )
        return HttpResponse(body, content_type="application/vnd.ogc.se_xml", status=status)
    body = (
        '<?xml version="1.0"?>\n<ServiceExceptionReport version="1.3.0" xmlns="http://www.opengis.net/ogc">'
        f'<ServiceException code="{code}">{escape(message)}</ServiceException></ServiceExceptionReport>'
    )
    return HttpResponse(body, content_type="text/xml", status=status)


def filter_capabilities(body: bytes, hidden: set[str]) -> bytes:
    """Remove hidden layers from a WMS, WMTS or TMS capabilities document."""
    if not hidden:
        return body
    root = etree.fromstring(body)
    for layer in root.iter(f"{{{NS['wms']}}}Layer", "Layer"):
        name = layer.find("wms:Name", NS)
        if name is None:
            name = layer.find("Name")
        if name is not None and name.text in hidden:
            layer.getparent().remove(layer)
    for layer in list(root.iter(f"{{{NS['wmts']}}}Layer")):
        ident = layer.find("ows:Identifier", NS)
        if ident is not None and ident.text in hidden:
            layer.getparent().remove(layer)
    for tile_map in list(root.iter("TileMap")):
        href = tile_map.get("href", "")
        if any(f"/tms/1.0.0/{name}/" in href or href.rstrip("/").endswith(f"/tms/1.0.0/{name}") for name in hidden):
            tile_map.getparent().remove(tile_map)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _is_capabilities(path: str, params: dict[str, str]) -> bool:
    return (
        params.get("request", "").lower() == "getcapabilities"
        or path.endswith("WMTSCapabilities.xml")
        or path.rstrip("/") in {"tms/1.0.0", "tms"}
    )


@csrf_exempt
def mapproxy(request: HttpRequest, path: str) -> HttpResponse:
    """Hand the request to MapProxy after the permission checks; filter what comes back."""
    config = conf.mapproxy_dir() / "mapproxy.yaml"
    if not config.exists():
        return HttpResponse(
            _("Chưa có cấu hình MapProxy: chạy `manage.py mapproxy_config`."),
            status=503,
            content_type="text/plain; charset=utf-8",
        )
    params = {k.lower(): v for k, v in request.GET.items()}
    hidden = hidden_layers(request.user, mp_config.layer_names(config))
    refused = requested_layers(path, params) & hidden
    if refused:
        service = params.get("service", "").upper()
        if service == "WMS" or (not service and path.startswith(("service", "wms"))):
            return service_exception(
                _("Không có lớp %(names)s.") % {"names": ", ".join(sorted(refused))},
                "LayerNotDefined",
                params.get("version", "1.3.0"),
            )
        return HttpResponse(
            _("Không có lớp %(names)s.") % {"names": ", ".join(sorted(refused))},
            status=404,
            content_type="text/plain; charset=utf-8",
        )
    if oversized(params):
        limit = "×".join(str(v) for v in mp_config.MAX_OUTPUT)
        message = _("Ảnh yêu cầu quá lớn: tối đa %(limit)s điểm ảnh.") % {"limit": limit}
        return service_exception(
            f"{message} / image size too large (max {limit})",
            "InvalidParameterValue",
            params.get("version", "1.3.0"),
            400,
        )
    status, headers, body = _call(mp_config.load_app(config), request, path)
    if status.startswith("200") and _is_capabilities(path, params):
        body = filter_capabilities(body, hidden)
    response = HttpResponse(body, status=int(status.split(" ", 1)[0]))
    for key, value in headers:
        if key.lower() not in HOP_BY_HOP:
            response[key] = value
    if hidden:
        # What this user sees differs from what others see: no shared caches.
        cache_control = response.get("Cache-Control", "max-age=0").replace("public", "private")
        response["Cache-Control"] = cache_control if "private" in cache_control else "private, " + cache_control
        response["Vary"] = "Cookie, Authorization"
    return response


def _call(app: Any, request: HttpRequest, path: str) -> tuple[str, list[tuple[str, str]], bytes]:
    environ = dict(request.environ)
    environ["SCRIPT_NAME"] = request.META.get("SCRIPT_NAME", "").rstrip("/") + "/mapproxy"
    environ["PATH_INFO"] = "/" + path
    captured: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        captured["status"], captured["headers"] = status, headers
        return lambda _data: None

    result = app(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        if hasattr(result, "close"):
            result.close()
    return captured["status"], captured["headers"], body
