"""Response helpers of the OGC API: format negotiation, exception bodies, links."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from layers.query import QueryError

JSON = "application/json"
GEOJSON = "application/geo+json"
HTML = "text/html"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"


class OGCError(Exception):
    """An OGC exception: HTTP status, code and a description a person can act on."""

    def __init__(self, status: int, code: str, description: str) -> None:
        super().__init__(description)
        self.status, self.code, self.description = status, code, description

    @classmethod
    def from_query_error(cls, exc: QueryError) -> OGCError:
        return cls(400, exc.code, f"{exc.parameter}: {exc.description}")


def wants_html(request: HttpRequest) -> bool:
    """`?f=html|json` wins; otherwise the Accept header (browsers ask for text/html first)."""
    f = request.GET.get("f")
    if f is not None:
        if f.lower() in ("html", "text/html"):
            return True
        if f.lower() in ("json", "geojson", "application/json", GEOJSON, "jsonschema", "openapi"):
            return False
        raise OGCError(400, "InvalidParameterValue", f"f: unsupported format '{f[:40]}'; use f=json or f=html")
    accept = request.headers.get("Accept", "")
    if not accept:
        return False
    html_at = accept.find(HTML)
    json_at = min((i for i in (accept.find(JSON), accept.find(GEOJSON), accept.find("*/*")) if i >= 0), default=-1)
    return html_at >= 0 and (json_at < 0 or html_at < json_at)


def error_response(request: HttpRequest, exc: OGCError) -> HttpResponse:
    """The exception as {"code", "description"} (JSON), or a small HTML page for browsers."""
    body = {"code": exc.code, "description": exc.description}
    try:
        html = wants_html(request)
    except OGCError:
        html = False
    if html:
        return render(request, "ogc/error.html", {"error": body}, status=exc.status)
    return JsonResponse(body, status=exc.status, json_dumps_params={"ensure_ascii": False})


def json_response(data: Any, content_type: str = JSON, status: int = 200) -> HttpResponse:
    return HttpResponse(json.dumps(data, ensure_ascii=False, default=str), content_type=content_type, status=status)


def base_url(request: HttpRequest) -> str:
    """The absolute URL of /ogc on this host."""
    return request.build_absolute_uri("/ogc").rstrip("/")


def url_with(request: HttpRequest, **changes: Any) -> str:
    """The current URL with some query parameters replaced (None removes one)."""
    params = {k: v for k, v in request.GET.items()}
    for key, value in changes.items():
        key = key.replace("_", "-") if key in ("bbox_crs", "filter_lang", "filter_crs") else key
        if value is None:
            params.pop(key, None)
        else:
            params[key] = str(value)
    query = urlencode(params)
    return request.build_absolute_uri(request.path) + (f"?{query}" if query else "")


def link(href: str, rel: str, type_: str, title: str = "") -> dict[str, str]:
    item = {"href": href, "rel": rel, "type": type_}
    if title:
        item["title"] = title
    return item
