"""`/mapproxy/`: MapProxy's WSGI app mounted in Django, behind the one permission module.

The gate reads every request with MapProxy's own parsing — the service MapProxy picks for the path
(`/service`, `/ows`, `/wms`, `/wmts`, `/tiles`, `/tms`, `/kml`, …) and that service's `parse_request` — so it
sees exactly the layers MapProxy would serve, whatever the case of the keys or the alias:
- a key sent twice with different values (in any case) is refused with 400: MapProxy would join them;
- a path MapProxy has no service for is refused with 400;
- a layer the user may not see is answered exactly like a layer that does not exist (KVP requests: 400
  LayerNotDefined/InvalidParameterValue; tile paths: 404);
- WMS image sizes must be whole numbers from 1 to IOC_MAPPROXY_MAX_SIZE; numbers MapProxy would choke on
  (WIDTH=abc, BBOX=x, I=y) and requests its own checks refuse are 400 with a message, not its 500.
Behind the gate MapProxy's own authorisation hook (`mapproxy.authorize`) answers for the same user: MapProxy
asks it for every layer it renders or lists, so capabilities documents list only the user's layers and
nothing the gate could have missed is ever drawn.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from mapproxy.exception import RequestError
from mapproxy.request.base import Request as MapProxyRequest
from mapproxy.request.wms import (
    WMSFeatureInfoRequestParams,
    WMSLegendGraphicRequestParams,
    WMSMapRequestParams,
)
from mapproxy.response import Response as MapProxyResponse
from mapproxy.service.kml import KMLServer
from mapproxy.service.ows import OWSServer
from mapproxy.service.tile import TileServer
from mapproxy.service.wms import WMSServer
from mapproxy.service.wmts import WMTSServer
from mapproxy.wsgiapp import MapProxyApp

from tiles import conf
from tiles import mapproxy as mp_config

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "server", "date"}
# Headers through which a client could make MapProxy see another path, host or scheme than Django checked.
SPOOFABLE = ("HTTP_X_SCRIPT_NAME", "HTTP_X_FORWARDED_HOST", "HTTP_X_FORWARDED_PROTO")
# Services the gate knows how to read layer names from; any other (e.g. MapProxy's demo, which lists every
# layer) is open only to users who may see every layer.
LAYERED_SERVICES = (WMSServer, WMTSServer, TileServer, KMLServer)
ALL_PERMISSIONS = {"map": True, "featureinfo": True, "legendgraphic": True, "tile": True}


def allowed_layers(user: Any, published: set[str]) -> set[str]:
    """The published MapProxy layers this user may see (the basemap is public); a layer of units as of a
    date (`communes:2025-01-01`) follows its catalog layer, the offline base every layer it is made of."""
    from layers.models import Layer

    visible = set(Layer.objects.visible_to(user).values_list("slug", flat=True))
    base_visible = all(part in visible for part in mp_config.base_parts(published))
    return {
        name
        for name in published
        if name == "basemap"
        or (name == mp_config.BASE_LAYER and base_visible)
        or mp_config.catalog_slug(name) in visible
    }


def authorizer(allowed: set[str], everything: bool) -> Callable[..., dict[str, Any]]:
    """MapProxy's authorisation callback (`environ["mapproxy.authorize"]`) for one user's layers."""

    def authorize(service: str, layers: list[Any], environ: Any = None, **_kwargs: Any) -> dict[str, Any]:
        if everything:
            return {"authorized": "full"}
        if service == "demo":
            return {"authorized": "none"}
        # TMS lists its layers as (name, grid) keys; the other services by name.
        names = {layer if isinstance(layer, str) else layer[0] for layer in layers}
        return {"authorized": "partial", "layers": {name: ALL_PERMISSIONS for name in names & allowed}}

    return authorize


class Refused(Exception):
    """The gate's answer to a request MapProxy must not see."""

    def __init__(self, response: MapProxyResponse) -> None:
        super().__init__(response.status)
        self.response = response


def _plain(message: str, status: int = 400) -> Refused:
    return Refused(MapProxyResponse(message, status=status, mimetype="text/plain"))


def _rendered(error: RequestError) -> Refused:
    """MapProxy's own rendering of a refusal (WMS/WMTS/TMS exception formats), as a client error."""
    if error.request is not None and hasattr(error.request, "prevent_image_exception"):
        error.request.prevent_image_exception = True  # a refusal is read by a person: text, not a picture
    response = error.render()
    if response.status.startswith("5"):
        response.status = 400  # MapProxy says 500 for every request it refuses; these are the client's
    return Refused(response)


def check(app: MapProxyApp, environ: dict[str, Any], allowed: set[str], everything: bool) -> None:
    """Raise Refused unless MapProxy may answer this request for a user who may see `allowed`."""
    req = MapProxyRequest(dict(environ))  # a copy: parsing may move path parts into SCRIPT_NAME
    args = req.args
    for key, values in args.items_multi() if hasattr(args, "items_multi") else ():
        if len(set(values)) > 1:
            raise _plain(
                _("Tham số %(name)s được gửi nhiều lần với các giá trị khác nhau; hãy gửi một lần.")
                % {"name": key.upper()}
            )
    match = app.handler_path_re.match(req.path)
    if match is None:
        if req.path in ("", "/"):
            return  # MapProxy's welcome page names no layer
        raise _unknown_service(app, req.path)
    service = app.handlers.get(match.group(1))
    if service is None:
        raise _unknown_service(app, match.group(1))
    if isinstance(service, OWSServer):
        service = _ows_service(service, req)
        if service is None:
            return  # MapProxy answers a missing or unknown SERVICE itself, with a 400 and no layer
    if not isinstance(service, LAYERED_SERVICES):
        if everything:
            return
        raise _plain(_("Trang này của MapProxy chỉ dành cho người xem được mọi lớp."), status=403)
    parsed = _parse(service, req)
    refused = _layer_names(parsed) - allowed
    if refused:
        shown = ", ".join(sorted(refused))
        message = _("Không có lớp %(names)s.") % {"names": shown}
        if match.group(1) in ("service", "ows", "wms"):  # KVP: an OGC exception; a tile path: 404
            code = "LayerNotDefined" if isinstance(service, WMSServer) else "InvalidParameterValue"
            raise _rendered(RequestError(message, code=code, request=parsed, status=400))
        raise _rendered(RequestError(message, request=parsed, status=404))
    if isinstance(service, WMSServer):
        _check_wms(service, parsed)


def _unknown_service(app: MapProxyApp, name: str) -> Refused:
    known = ", ".join(f"/mapproxy/{n}" for n in sorted(app.handlers))
    return _plain(
        _("MapProxy không có dịch vụ “%(name)s”; các dịch vụ có: %(known)s.") % {"name": name, "known": known}
    )


def _ows_service(ows: OWSServer, req: MapProxyRequest) -> Any:
    """The service MapProxy's OWSServer.handle dispatches to (WMS 1.0.0 and GetMap need no SERVICE)."""
    name = req.args.get("service")
    if not name and (req.args.get("wmtver") == "1.0.0" or req.args.get("request") == "GetMap"):
        name = "wms"
    return ows.services.get(name.lower()) if name else None


def _parse(service: Any, req: MapProxyRequest) -> Any:
    """The service's own parsing of the request; what it refuses is answered with its message as a 400."""
    try:
        parsed = service.parse_request(req)
        if hasattr(parsed, "make_request"):
            parsed.make_request()  # WMTS: fills .layer from the KVP parameters or the REST path
    except RequestError as exc:
        raise _rendered(exc) from exc
    except (ValueError, KeyError) as exc:  # e.g. TILEROW=abc or BBOX=a,b,c,d: MapProxy would say 500
        names = ", ".join(_not_numbers(req)) or "BBOX, WIDTH, HEIGHT, TILEROW, TILECOL, I, J"
        raise _plain(_("Tham số %(names)s phải là số.") % {"names": names}) from exc
    return parsed


NUMERIC_KEYS = ("bbox", "width", "height", "tilematrix", "tilerow", "tilecol", "i", "j", "x", "y")


def _not_numbers(req: MapProxyRequest) -> list[str]:
    """The numeric parameters of the request whose value is not made of numbers."""
    wrong = []
    for key in NUMERIC_KEYS:
        value = req.args.get(key) if key in req.args else None
        if value is None:
            continue
        try:
            [float(part) for part in value.split(",")]
        except ValueError:
            wrong.append(key.upper())
    return wrong


def _layer_names(parsed: Any) -> set[str]:
    """Every layer name the parsed request refers to."""
    names: set[str] = set()
    params = getattr(parsed, "params", None)
    if isinstance(params, WMSMapRequestParams):  # GetMap, GetFeatureInfo and GetLegendGraphic
        names.update(params.layers)
        if isinstance(params, WMSFeatureInfoRequestParams):
            names.update(params.query_layers)
        if isinstance(params, WMSLegendGraphicRequestParams) and params.layer:
            names.add(params.layer)
    layer = getattr(parsed, "layer", None)  # WMTS (KVP and REST), TMS, /tiles, KML
    if isinstance(layer, str):
        names.add(layer)
    return names - {""}  # an empty LAYERS= is MapProxy's to refuse (LayerNotDefined)


def _check_wms(service: WMSServer, parsed: Any) -> None:
    """Numbers MapProxy would fail on, the image size cap, then MapProxy's own checks, before any rendering."""
    handler = parsed.request_handler_name
    if handler not in ("map", "featureinfo", "legendgraphic"):
        return
    if handler in ("map", "featureinfo"):
        _check_size(parsed)
        try:
            parsed.params.bbox  # noqa: B018 - MapProxy converts these when it renders; a 500 then
            if handler == "featureinfo":
                parsed.params.pos  # noqa: B018
        except (ValueError, TypeError, KeyError) as exc:
            message = _("Tham số BBOX hoặc vị trí điểm (I/J, X/Y) không phải số hợp lệ.")
            raise _rendered(RequestError(message, code="InvalidParameterValue", request=parsed, status=400)) from exc
    checks = {
        "map": service.check_map_request,
        "featureinfo": service.check_featureinfo_request,
        "legendgraphic": service.check_legend_request,
    }
    try:
        checks[handler](parsed)
    except RequestError as exc:
        raise _rendered(exc) from exc


def _check_size(parsed: Any) -> None:
    limit = conf.mapproxy_max_size()
    width, height = parsed.params.get("width", ""), parsed.params.get("height", "")
    try:
        size = int(width), int(height)
    except ValueError:
        size = (0, 0)
    if not all(1 <= v <= limit for v in size):
        message = _(
            "Kích thước ảnh WIDTH×HEIGHT phải là số nguyên từ 1 đến %(limit)d (nhận được %(width)s×%(height)s)."
        ) % {"limit": limit, "width": width or "?", "height": height or "?"}
        raise _rendered(RequestError(message, code="InvalidParameterValue", request=parsed, status=400))


def mapproxy_environ(request: HttpRequest, path: str) -> dict[str, Any]:
    """The WSGI environ MapProxy (and the gate) see: mounted at /mapproxy, on the host Django validated."""
    environ = dict(request.META)  # a WSGI request's META is its environ
    for key in SPOOFABLE:
        environ.pop(key, None)
    environ["HTTP_HOST"] = request.get_host()
    environ["wsgi.url_scheme"] = request.scheme
    environ["SCRIPT_NAME"] = request.META.get("SCRIPT_NAME", "").rstrip("/") + "/mapproxy"
    environ["PATH_INFO"] = "/" + path
    return environ


@csrf_exempt
def mapproxy(request: HttpRequest, path: str) -> HttpResponse:
    """Hand the request to MapProxy once the gate lets it through, with MapProxy asking the same policy."""
    config = conf.mapproxy_dir() / "mapproxy.yaml"
    if not config.exists():
        return HttpResponse(
            _("Chưa có cấu hình MapProxy: chạy `manage.py mapproxy_config`."),
            status=503,
            content_type="text/plain; charset=utf-8",
        )
    app = mp_config.load_app(config)
    published = mp_config.layer_names(config)
    allowed = allowed_layers(request.user, published)
    everything = allowed >= published
    environ = mapproxy_environ(request, path)
    try:
        check(app, environ, allowed, everything)
    except Refused as refusal:
        return _django_response(*_call(refusal.response, environ), request)
    environ["mapproxy.authorize"] = authorizer(allowed, everything)
    return _django_response(*_call(app, environ), request)


def _django_response(status: str, headers: list[tuple[str, str]], body: bytes, request: HttpRequest) -> HttpResponse:
    response = HttpResponse(body, status=int(status.split(" ", 1)[0]))
    for key, value in headers:
        if key.lower() not in HOP_BY_HOP:
            response[key] = value
    patch_vary_headers(response, ("Cookie", "Authorization"))  # the answer depends on who asks
    if request.user.is_authenticated:
        # A signed-in user's answer (capabilities, private tiles) is theirs: never from a shared cache.
        cache_control = response.get("Cache-Control", "max-age=0").replace("public", "private")
        response["Cache-Control"] = cache_control if "private" in cache_control else "private, " + cache_control
    return response


def _call(app: Any, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
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
