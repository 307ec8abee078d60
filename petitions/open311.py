"""Open311 GeoReport v2 at /open311/v2/: discovery, services, service definitions, requests (GET, POST),
requests/{id}, tokens/{token}; every resource in JSON and XML with the specification's field names.

Mapping: a service is a petition category (service_code = Category value); service_request_id is the
petition's tracking code; status is "open" until the petition needs no more work (resolved, closed,
rejected, duplicate). Reporter names, phones and e-mails are never part of any response.

Reading is one more channel of the catalog's layers over petitions, under the same policy as their
feature APIs (gis_ioc.permissions, through petitions.layer.readable_fields): no layer view right, no
listing; a commune-scoped user gets his communes' requests only; a field made of a catalog attribute
(FIELD_SOURCES) is null unless the catalog shows that attribute to the user. The other fields are what
the public status page shows beside the layer's point (deadline, agency, public note, and photos through
the policy-checked photo view).
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from gis_ioc import permissions
from petitions import attachments, intake, throttle
from petitions.jsonutil import json_response
from petitions.layer import readable_fields
from petitions.models import (
    CLOSED_STATUSES,
    HEAVY,
    OPEN_STATUSES,
    Attachment,
    Category,
    CategoryDeadline,
    Petition,
    RoutingRule,
    Source,
    Status,
)

REQUEST_FIELDS = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
]
SERVICE_FIELDS = ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"]
# Open311 field → the catalog attribute (of the layers over petitions) it shows.
FIELD_SOURCES = {
    "service_request_id": "tracking_code",
    "status": "status",
    "status_notes": "status",
    "service_name": "category",
    "service_code": "category",
    "description": "description",
    "requested_datetime": "received_at",
}
# Open311 is the petitions layer read over REST: it follows the REST channel's field rules.
CHANNEL = "rest"
MAX_PAGE = 1000
DEFAULT_PAGE = 100
MAX_OFFSET = 10**9  # rows skipped at most (the OGC and REST offsets stop there too)
JURISDICTION = "don-duong.lamdong.gov.vn"
SERVICE_GROUPS = {
    "dat_dai": "Đất đai – quy hoạch",
    "trat_tu_xay_dung": "Đất đai – quy hoạch",
    "moi_truong": "Môi trường",
    "giao_thong_ha_tang": "Hạ tầng",
    "dien_nuoc": "Hạ tầng",
}


# --- rendering -------------------------------------------------------------------------------
def _xml_value(parent: ET.Element, name: str, value: Any) -> None:
    child = ET.SubElement(parent, name)
    if isinstance(value, list):
        for item in value:
            _xml_value(child, "value" if not isinstance(item, dict) else "item", item)
    elif isinstance(value, dict):
        for key, val in value.items():
            _xml_value(child, key, val)
    elif isinstance(value, bool):
        child.text = "true" if value else "false"
    elif value is not None:
        child.text = str(value)


def xml_response(root: ET.Element, status: int = 200) -> HttpResponse:
    body = '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode")
    return HttpResponse(body.encode("utf-8"), status=status, content_type="text/xml; charset=utf-8")


def render(request: HttpRequest, fmt: str, data: Any, root: str, item: str, status: int = 200) -> HttpResponse:
    """JSON as is, or XML with <root><item>…</item></root>; ElementTree escapes every text node."""
    if fmt == "xml":
        tree = ET.Element(root)
        for row in data if isinstance(data, list) else [data]:
            element = ET.SubElement(tree, item)
            for key, value in row.items():
                _xml_value(element, key, value)
        return xml_response(tree, status)
    return json_response(data, status=status)


def error(request: HttpRequest, fmt: str, status: int, message: str, retry_after: int | None = None) -> HttpResponse:
    """Open311 errors: [{"code": …, "description": …}] / <errors><error>…"""
    response = render(request, fmt, [{"code": status, "description": message}], "errors", "error", status=status)
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


def _guard(request: HttpRequest, fmt: str, *, write: bool = False) -> HttpResponse | None:
    if fmt not in ("json", "xml"):
        return error(request, "json", 404, _("Định dạng không hỗ trợ: dùng .json hoặc .xml."))
    refusal = throttle.check(request, "open311", write=write)
    if refusal:
        return error(request, fmt, refusal.status, refusal.message, refusal.retry_after)
    jurisdiction = request.GET.get("jurisdiction_id") or request.POST.get("jurisdiction_id")
    if jurisdiction and jurisdiction != JURISDICTION:
        return error(request, fmt, 404, _("jurisdiction_id không đúng; dùng “%(j)s”.") % {"j": JURISDICTION})
    return None


def _iso(value: dt.datetime | None) -> str | None:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else None


def _service(code: str, days: int) -> dict[str, Any]:
    label = str(Category(code).label)
    return {
        "service_code": code,
        "service_name": label,
        "description": _("Phản ánh về %(c)s; thời hạn xử lý %(d)d ngày.") % {"c": label.lower(), "d": days},
        "metadata": False,
        "type": "realtime",
        "keywords": label.lower(),
        "group": SERVICE_GROUPS.get(code, label),
    }


class Lookups:
    """Deadlines, routing and photos read once per response, not once per row (1,000 rows = 4 queries)."""

    def __init__(self, petitions: list[Petition] | None = None) -> None:
        self.days = CategoryDeadline.days_map()
        # Labels translated once: get_FOO_display() hashes lazy strings, a gettext call each, per row.
        self.status = {value: str(label) for value, label in Status.choices}
        self.service = {value: str(label) for value, label in Category.choices}
        self.notice = {code: _("Thời hạn xử lý %(d)d ngày.") % {"d": days} for code, days in self.days.items()}
        self.routes = {(r.category, r.commune_code): r.agency for r in RoutingRule.objects.select_related("agency")}
        self.media = self._first_photos(petitions or [])

    @staticmethod
    def _first_photos(petitions: list[Petition]) -> dict[int, Any]:
        """Petition id → key of its first citizen photo, in one query. (prefetch_related("attachments")
        cloned a queryset per petition: 180 ms of a 1,000-row page, for one number each.) The rows were
        read under the petitions layer's policy, which also decides who sees their photos' copies."""
        if not petitions:
            return {}
        rows = (
            Attachment.objects.citizen_photos()
            .filter(petition_id__in=[p.pk for p in petitions])
            .order_by("petition_id", "id")
            .distinct("petition_id")
            .values_list("petition_id", "key")
        )
        return dict(rows)

    def agency(self, petition: Petition) -> Any:
        if petition.agency_id:
            return petition.agency
        key = (petition.category, petition.commune_code)
        return self.routes.get(key) or self.routes.get((petition.category, ""))


def request_row(
    request: HttpRequest, petition: Petition, visible: frozenset[str], lookups: Lookups | None = None
) -> dict[str, Any]:
    """One service request with exactly the specification's fields (never any reporter's data); a field
    made of a catalog attribute outside `visible` (see `Reader`) is null.

    `lookups` must have been built with this petition in its list (its first photo is the media_url)."""
    lookups = lookups or Lookups([petition])
    agency = lookups.agency(petition)
    media = lookups.media.get(petition.pk)
    row = {
        "service_request_id": petition.tracking_code,
        "status": petition.open311_status,
        "status_notes": petition.public_note or lookups.status[petition.status],
        "service_name": lookups.service[petition.category],
        "service_code": petition.category,
        "description": petition.description,
        "agency_responsible": agency.name if agency else None,
        "service_notice": lookups.notice[petition.category],
        "requested_datetime": _iso(petition.received_at),
        "updated_datetime": _iso(petition.updated_at),
        "expected_datetime": _iso(petition.due_at),
        "address": petition.address or (petition.commune.name if petition.commune is not None else ""),
        "address_id": None,
        "zipcode": None,
        "lat": round(petition.geom.y, 6),
        "long": round(petition.geom.x, 6),
        "media_url": request.build_absolute_uri(reverse("petitions:attachment", args=[media, "public"]))
        if media
        else None,
    }
    for name, source in FIELD_SOURCES.items():
        if source not in visible:
            row[name] = None
    return row


class Reader:
    """What this request may read, decided once by the policy: whether the catalog shows petitions to the
    user at all, the attributes it shows him, and the petitions of his communes."""

    def __init__(self, request: HttpRequest) -> None:
        fields = readable_fields(request.user, CHANNEL)
        self.allowed = fields is not None
        self.visible = fields or frozenset()
        self.user = request.user

    def petitions(self) -> Any:
        """The petitions this user may read through Open311 (the user's commune scope applied)."""
        qs = Petition.objects.select_related("agency", "commune").defer(*HEAVY)
        return permissions.scope_queryset(self.user, qs)

    def refusal(self, request: HttpRequest, fmt: str) -> HttpResponse | None:
        """A 403 when the catalog does not let this user see petitions at all."""
        if self.allowed:
            return None
        return error(request, fmt, 403, _("Bạn không có quyền xem danh sách phản ánh."))


# --- resources -------------------------------------------------------------------------------
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    """Where the endpoint lives and what it speaks."""
    if refused := _guard(request, fmt):
        return refused
    base = request.build_absolute_uri(reverse("petitions:open311-root"))
    data: dict[str, Any] = {
        "changeset": _iso(timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)),
        "contact": _("Văn phòng HĐND và UBND huyện Đơn Dương"),
        "key_service": _("Liên hệ quản trị hệ thống để được cấp api_key."),
        "endpoints": [
            {
                "specification": "http://wiki.open311.org/GeoReport_v2",
                "url": base,
                "changeset": _iso(timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)),
                "type": "production" if not settings.DEBUG else "test",
                "formats": ["application/json", "text/xml"],
            }
        ],
    }
    if fmt == "xml":
        root = ET.Element("discovery")
        for key in ("changeset", "contact", "key_service"):
            ET.SubElement(root, key).text = str(data[key])
        endpoints = ET.SubElement(root, "endpoints")
        for ep in data["endpoints"]:
            node = ET.SubElement(endpoints, "endpoint")
            for key in ("specification", "url", "changeset", "type"):
                ET.SubElement(node, key).text = str(ep[key])
            formats = ET.SubElement(node, "formats")
            for f in ep["formats"]:
                ET.SubElement(formats, "format").text = f
        return xml_response(root)
    return json_response(data)


def services(request: HttpRequest, fmt: str) -> HttpResponse:
    """The service list: one service per petition category."""
    if refused := _guard(request, fmt):
        return refused
    days = CategoryDeadline.days_map()
    return render(request, fmt, [_service(code, days[code]) for code in Category.values], "services", "service")


def service_definition(request: HttpRequest, code: str, fmt: str) -> HttpResponse:
    """Definition of a service: no extra attributes (metadata is false for every service)."""
    if refused := _guard(request, fmt):
        return refused
    if code not in Category.values:
        return error(request, fmt, 404, _("service_code không tồn tại: “%(c)s”.") % {"c": code[:40]})
    data = {"service_code": code, "attributes": []}
    return _definition(request, fmt, data)


def _definition(request: HttpRequest, fmt: str, data: dict[str, Any]) -> HttpResponse:
    if fmt == "xml":
        root = ET.Element("service_definition")
        ET.SubElement(root, "service_code").text = data["service_code"]
        ET.SubElement(root, "attributes")
        return xml_response(root)
    return json_response(data)


@csrf_exempt
def requests_collection(request: HttpRequest, fmt: str) -> HttpResponse:
    """GET: search service requests; POST: create one."""
    if request.method == "POST":
        return _create(request, fmt)
    if request.method not in ("GET", "HEAD"):
        return error(request, fmt if fmt in ("json", "xml") else "json", 405, _("Chỉ hỗ trợ GET và POST."))
    if refused := _guard(request, fmt):
        return refused
    reader = Reader(request)
    if refused := reader.refusal(request, fmt):
        return refused
    qs = reader.petitions().order_by("-received_at")
    ids = [i.strip() for i in request.GET.get("service_request_id", "").split(",") if i.strip()]
    if ids:
        qs = qs.filter(tracking_code__in=ids[:MAX_PAGE])
    else:
        try:
            qs = _filter(request, qs)
        except ValueError as exc:
            return error(request, fmt, 400, str(exc))
    try:
        size = min(MAX_PAGE, max(1, int(request.GET.get("page_size", DEFAULT_PAGE))))
        page = max(1, int(request.GET.get("page", 1)))
    except ValueError:
        return error(request, fmt, 400, _("page và page_size phải là số nguyên."))
    if (page - 1) * size > MAX_OFFSET:  # beyond this the OFFSET overflows PostgreSQL's bigint
        return error(request, fmt, 400, _("page quá lớn: tối đa %(n)d với page_size này.") % {"n": MAX_OFFSET // size})
    page_rows = list(qs[(page - 1) * size : page * size])
    lookups = Lookups(page_rows)
    rows = [request_row(request, p, reader.visible, lookups) for p in page_rows]
    return render(request, fmt, rows, "service_requests", "request")


def _parse_when(request: HttpRequest, name: str) -> dt.datetime | None:
    raw = request.GET.get(name)
    if not raw:
        return None
    value = parse_datetime(raw.replace(" ", "+"))
    if value is None:
        raise ValueError(_("%(n)s phải theo định dạng W3C, ví dụ 2025-01-31T08:00:00+07:00.") % {"n": name})
    return value if timezone.is_aware(value) else timezone.make_aware(value)


def _filter(request: HttpRequest, qs: Any) -> Any:
    start, end = _parse_when(request, "start_date"), _parse_when(request, "end_date")
    if start is None and end is None:
        start = timezone.now() - dt.timedelta(days=90)  # the specification's default window
    if start:
        qs = qs.filter(received_at__gte=start)
    if end:
        qs = qs.filter(received_at__lte=end)
    codes = [c.strip() for c in request.GET.get("service_code", "").split(",") if c.strip()]
    unknown = [c for c in codes if c not in Category.values]
    if unknown:
        raise ValueError(_("service_code không tồn tại: %(c)s") % {"c": ", ".join(unknown)[:80]})
    if codes:
        qs = qs.filter(category__in=codes)
    statuses = {s.strip() for s in request.GET.get("status", "").split(",") if s.strip()}
    if statuses - {"open", "closed"}:
        raise ValueError(_("status chỉ nhận open hoặc closed."))
    if statuses == {"open"}:
        qs = qs.filter(status__in=OPEN_STATUSES)
    elif statuses == {"closed"}:
        qs = qs.filter(status__in=CLOSED_STATUSES)
    return qs


def _create(request: HttpRequest, fmt: str) -> HttpResponse:
    if refused := _guard(request, fmt, write=True):
        return refused
    keys = intake.conf().open311_api_keys
    if keys and request.POST.get("api_key") not in keys:
        return error(request, fmt, 403, _("api_key không hợp lệ hoặc bị thiếu."))
    data = request.POST
    code = data.get("service_code", "")
    if not code:
        return error(request, fmt, 400, _("Thiếu service_code."))
    if code not in Category.values:
        return error(request, fmt, 404, _("service_code không tồn tại: “%(c)s”.") % {"c": code[:40]})
    try:
        photos = attachments.process_uploads(request.FILES.getlist("media"))
        point, approximate = _location(data, photos)
        name = " ".join(x for x in (data.get("first_name", ""), data.get("last_name", "")) if x)
        result = intake.create_petition(
            category=code,
            description=data.get("description", ""),
            point=point,
            reporter=intake.Reporter(name=name, phone=data.get("phone", ""), email=data.get("email", "")),
            source=Source.OPEN311,
            photos=photos,
            address=data.get("address_string", ""),
            location_approximate=approximate,
        )
    except intake.IntakeError as exc:
        return error(request, fmt, 400, f"{exc.field}: {exc.message}")
    except attachments.AttachmentError as exc:
        return error(request, fmt, 400, f"media: {exc}")
    petition = result.petition
    row = {
        "service_request_id": petition.tracking_code,
        "token": petition.token,
        # Not in GeoReport v2: the filer's receipt secret, given this once, to rate the resolution on the
        # public status page (only its digest is stored).
        "receipt_secret": result.receipt,
        "service_notice": _("Thời hạn xử lý %(d)d ngày.") % {"d": CategoryDeadline.days_for(petition.category)},
        "account_id": None,
    }
    return render(request, fmt, [row], "service_requests", "request", status=201)


def _location(data: Any, photos: list[Any]) -> tuple[Any, bool]:
    """lat/long, else a photo's EXIF position, else the commune named in address_string (approximate)."""
    lat, lon = data.get("lat"), data.get("long")
    if (lat not in (None, "")) or (lon not in (None, "")):
        return intake.parse_point(lat, lon, lat_field="lat", lon_field="long"), False
    if any(p.gps for p in photos):
        return None, False
    address = data.get("address_string", "").strip()
    if not address and not data.get("address_id"):
        raise intake.IntakeError("lat", _("Cần lat và long, hoặc address_string."))
    point = intake.locate_address(address)
    if point is None:
        raise intake.IntakeError(
            "address_string",
            _("Không xác định được vị trí từ địa chỉ “%(a)s”; hãy gửi lat/long hoặc ghi rõ tên xã.")
            % {"a": address[:80]},
        )
    return point, True


def request_detail(request: HttpRequest, request_id: str, fmt: str) -> HttpResponse:
    """One service request by its id (the tracking code)."""
    if refused := _guard(request, fmt):
        return refused
    reader = Reader(request)
    if refused := reader.refusal(request, fmt):
        return refused
    # Outside the user's communes is "not found", as in the feature APIs.
    petition = reader.petitions().filter(tracking_code=request_id).first()
    if petition is None:
        return error(request, fmt, 404, _("Không có service_request_id “%(i)s”.") % {"i": request_id[:40]})
    return render(request, fmt, [request_row(request, petition, reader.visible)], "service_requests", "request")


def token_detail(request: HttpRequest, token: str, fmt: str) -> HttpResponse:
    """The service_request_id behind a token handed out on POST."""
    if refused := _guard(request, fmt):
        return refused
    petition = Petition.objects.filter(token=token).first()
    if petition is None:
        return error(request, fmt, 404, _("Token không tồn tại."))
    return render(
        request, fmt, [{"service_request_id": petition.tracking_code, "token": token}], "service_requests", "request"
    )


def root(request: HttpRequest) -> HttpResponse:
    """The endpoint root points at discovery."""
    return json_response(
        {"discovery": request.build_absolute_uri(reverse("petitions:open311-discovery", args=["json"]))}
    )
