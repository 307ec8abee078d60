"""/sta/v1.1/… — the SensorThings service (read: sensors/sta.py, write: sensors/ingest.py) and the CSV door.

Errors are JSON {"code", "type": "error", "message"} with a 4xx status, in the user's language.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from sensors import ingest, sta

VERSION_ROOT = "/sta/v1.1"
_PATH = re.compile(r"^(?P<set>[A-Za-z]+)(?:\((?P<id>[0-9]{1,18})\))?(?:/(?P<nav>[A-Za-z]+))?$")
MAX_BODY = 20 * 1024 * 1024
CONFORMANCE = [
    "http://www.opengis.net/spec/iot_sensing/1.1/req/datamodel",
    "http://www.opengis.net/spec/iot_sensing/1.1/req/resource-path/resource-path-to-entities",
    "http://www.opengis.net/spec/iot_sensing/1.1/req/request-data",
    "http://www.opengis.net/spec/iot_sensing/1.1/req/create-update-delete/create-entity",
    "http://www.opengis.net/spec/iot_sensing/1.1/req/data-array/data-array",
]


def _error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"code": status, "type": "error", "message": message}, status=status)


def _root_url(request: HttpRequest) -> str:
    return request.build_absolute_uri(VERSION_ROOT)


def _body(request: HttpRequest) -> Any:
    if len(request.body) > MAX_BODY:
        raise ingest.Refused(_("Nội dung quá lớn (tối đa 20 MB)."), 413)
    try:
        return json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        raise ingest.Refused(_("Nội dung không phải JSON hợp lệ.")) from None


def _plain_view(request: HttpRequest) -> HttpResponse:
    """A view that is not CSRF-exempt: the session writers' check is made as for any form."""
    return HttpResponse()


@csrf_exempt  # token or Basic sign-in (SignInMiddleware); a browser session still needs the CSRF check below
def service(request: HttpRequest, path: str = "") -> HttpResponse:
    """Every SensorThings path: the service root, entity sets, one entity, its navigation properties."""
    try:
        if request.method == "POST" and getattr(request, "api_token", None) is None and request.user.is_authenticated:
            from django.middleware.csrf import CsrfViewMiddleware

            refused = CsrfViewMiddleware(_plain_view).process_view(request, _plain_view, (), {})
            if refused is not None:
                return _error(_("Thiếu mã CSRF: dùng khóa API (Token) khi ghi từ chương trình."), 403)
        if path in ("", "/"):
            return _root(request)
        if path == "CreateObservations":
            return _create_observations(request)
        match = _PATH.match(path.strip("/"))
        if match is None or match["set"] not in sta.ENTITY_SETS:
            return _error(_("Không có tài nguyên “%(path)s” trong SensorThings API.") % {"path": path}, 404)
        if request.method == "POST":
            return _create(request, match["set"], match["id"], match["nav"])
        if request.method not in ("GET", "HEAD"):
            return _error(_("Phương thức %(m)s không được hỗ trợ ở đây.") % {"m": request.method}, 405)
        return _read(request, match["set"], match["id"], match["nav"])
    except sta.QueryError as exc:
        return _error(str(exc), 400)
    except ingest.Refused as exc:
        return _error(str(exc), exc.status)


def _root(request: HttpRequest) -> JsonResponse:
    root = _root_url(request)
    return JsonResponse(
        {
            "value": [{"name": name, "url": f"{root}/{name}"} for name in sta.ENTITY_SETS],
            "serverSettings": {"conformance": CONFORMANCE},
        }
    )


def _read(request: HttpRequest, entity_set: str, pk: str | None, nav_name: str | None) -> JsonResponse:
    reader = sta.Reader(request.user, _root_url(request))
    options = sta.known_options((key, str(value)) for key, value in request.GET.items())
    qs = sta.visible(request.user, entity_set)
    if pk is None:
        if nav_name:
            return _error(_("Cần mã thực thể trước “/%(nav)s”.") % {"nav": nav_name}, 400)
        return JsonResponse(reader.collection(entity_set, qs, options, request.build_absolute_uri(request.path)))
    row = qs.filter(pk=int(pk)).first()
    if row is None:
        return _error(_("Không có %(set)s(%(id)s).") % {"set": entity_set, "id": pk}, 404)
    if nav_name is None:
        return JsonResponse(reader.entity(entity_set, row, options))
    nav = sta.ENTITY_SETS[entity_set].navs.get(nav_name)
    if nav is None:
        return _error(_("%(set)s không có liên kết %(nav)s.") % {"set": entity_set, "nav": nav_name}, 404)
    if nav.many:
        related = sta.visible(request.user, nav.entity_set).filter(pk__in=getattr(row, nav.relation).values("pk"))
        return JsonResponse(
            reader.collection(nav.entity_set, related, options, request.build_absolute_uri(request.path))
        )
    value = reader.expanded(row, nav, options, 0)
    if value is None:
        return _error(_("Không có %(nav)s.") % {"nav": nav_name}, 404)
    return JsonResponse(value)


def _created(request: HttpRequest, entity_set: str, row: Any, status: int = 201) -> JsonResponse:
    reader = sta.Reader(request.user, _root_url(request))
    response = JsonResponse(reader.entity(entity_set, row, {}), status=status)
    response["Location"] = reader.link(entity_set, row.pk)
    return response


def _create(request: HttpRequest, entity_set: str, pk: str | None, nav_name: str | None) -> JsonResponse:
    if not request.user.is_authenticated:
        return _error(_("Hãy đăng nhập hoặc dùng khóa API để ghi dữ liệu quan trắc."), 401)
    body = _body(request)
    if entity_set == "Things" and pk is None:
        return _created(request, "Things", ingest.create_thing(request.user, body))
    if entity_set == "Observations" and pk is None:
        stored, _already = ingest.store_observations(request.user, ingest.observation_rows(body))
        return _observation_answer(request, body, stored)
    if entity_set == "Datastreams" and pk is not None and nav_name == "Observations":
        stored, _already = ingest.store_observations(request.user, ingest.observation_rows(body, int(pk)))
        return _observation_answer(request, body, stored, int(pk))
    if entity_set == "Datastreams" and pk is None:
        # POST /Datastreams names its Thing: {"Thing": {"@iot.id": n}} (how FROST's client creates one).
        ref = body.get("Thing") if isinstance(body, dict) else None
        pk, nav_name = (str(ref.get("@iot.id")) if isinstance(ref, dict) else None), "Datastreams"
        if pk is None or not pk.isdigit():
            return _error(_("Datastream cần “Thing”: {\"@iot.id\": mã trạm}."), 400)
        entity_set = "Things"
    if entity_set == "Things" and pk is not None and nav_name in ("Datastreams", "Locations"):
        thing = sta.visible(request.user, "Things").filter(pk=int(pk)).first()
        if thing is None:
            return _error(_("Không có Things(%(id)s).") % {"id": pk}, 404)
        ingest._may_write(request.user, thing.commune_code)
        if nav_name == "Datastreams":
            return _created(request, "Datastreams", ingest.create_datastream(request.user, thing, body))
        location = ingest.create_location(thing, body)
        ingest.move_thing(request.user, thing, location)
        return _created(request, "Locations", location)
    return _error(_("Không tạo được %(set)s theo đường dẫn này.") % {"set": entity_set}, 405)


def _observation_answer(request: HttpRequest, body: Any, stored: list[Any], stream: int | None = None) -> JsonResponse:
    """201 with the new observation; 200 with the stored one when it was already there (idempotent)."""
    if stored:
        return _created(request, "Observations", stored[0])
    from sensors.models import Observation

    ref = stream if stream is not None else body["Datastream"]["@iot.id"]
    same = Observation.objects.filter(
        datastream_id=ref, phenomenon_time=ingest._time(body.get("phenomenonTime"), "")
    ).first()
    return _created(request, "Observations", same, status=200)


def _create_observations(request: HttpRequest) -> JsonResponse:
    """POST /CreateObservations (dataArray): the new observations' links, in order ("exists" for a repeat)."""
    if request.method != "POST":
        return _error(_("CreateObservations chỉ nhận POST."), 405)
    if not request.user.is_authenticated:
        return _error(_("Hãy đăng nhập hoặc dùng khóa API để ghi dữ liệu quan trắc."), 401)
    rows = ingest.data_array_rows(_body(request))
    stored, already = ingest.store_observations(request.user, rows)
    root = _root_url(request)
    return JsonResponse([f"{root}/Observations({o.pk})" for o in stored] + ["exists"] * already, status=201, safe=False)


@csrf_exempt
def upload_csv(request: HttpRequest) -> JsonResponse:
    """POST /api/v1/observations/csv (multipart `file`): all rows stored, or none with the first bad row named."""
    if request.method != "POST":
        return _error(_("Gửi tệp CSV bằng POST (trường “file”)."), 405)
    if not request.user.is_authenticated:
        return _error(_("Hãy đăng nhập hoặc dùng khóa API để ghi dữ liệu quan trắc."), 401)
    upload = request.FILES.get("file")
    if upload is None:
        return _error(_("Thiếu tệp CSV (trường “file”)."), 400)
    if upload.size and upload.size > MAX_BODY:
        return _error(_("Tệp quá lớn (tối đa 20 MB)."), 413)
    try:
        rows = ingest.csv_rows(upload.read(), upload.name or "")
        stored, already = ingest.store_observations(request.user, rows)
    except ingest.Refused as exc:
        return _error(str(exc), exc.status)
    return JsonResponse({"stored": len(stored), "already_stored": already}, status=201)
