"""The map's search box: communes, schools, health facilities, parcels and petition tracking codes.

Accents are ignored on both sides (PostgreSQL `unaccent`, whose rules fold đ/Đ too), so "thanh my" finds
"Thạnh Mỹ". Every kind of result is scoped by the permission layer: a layer the user may not see yields
nothing, and a user limited to some communes only finds features in them.
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib.gis.db.models.functions import Centroid, PointOnSurface
from django.db.models import F, Func, Q, QuerySet, TextField, Value

from gis_ioc import permissions
from gis_ioc.lib.text import fold
from gis_ioc.models import AdminUnit
from layers.models import HealthFacility, LandParcel, Layer, School
from petitions.models import Petition

LIMIT = 8
MAX_QUERY = 100

# "Thạnh Mỹ 12 345", "24931 12/345", "tờ 12 thửa 345 thanh my": a commune (name or code), a sheet, a parcel.
_PARCEL_NUMBERS = re.compile(r"(?:t[oờ]\s*)?(\d{1,4})\s*(?:[/,\-\s]\s*|\s*th[uử]a\s*)(\d{1,6})\s*$", re.IGNORECASE)
_TRACKING = re.compile(r"^[A-Za-z]{1,4}-[A-Za-z0-9-]{2,20}$")


class Unaccent(Func):
    function = "unaccent"
    output_field = TextField()


def _folded(field: str) -> Unaccent:
    return Unaccent(Func(F(field), function="lower", output_field=TextField()))


def _lonlat(geom: Any) -> list[float] | None:
    return [round(geom.x, 6), round(geom.y, 6)] if geom is not None else None


def _layer_visible(user: Any, slug: str) -> bool:
    layer = Layer.objects.filter(slug=slug).first()
    return layer is not None and permissions.can_view_layer(user, layer)


def _name_filter(qs: QuerySet[Any], field: str, text: str) -> QuerySet[Any]:
    return qs.annotate(_folded=_folded(field)).filter(_folded__contains=Value(fold(text)))


def search(user: Any, text: str) -> list[dict[str, Any]]:
    """Results for the search box, best kinds first; each has kind, label, detail, lonlat, bbox."""
    text = " ".join((text or "").split())[:MAX_QUERY]
    if len(text) < 2:
        return []
    results: list[dict[str, Any]] = []
    results += _petitions(user, text)
    results += _parcels(user, text)
    results += _communes(user, text)
    results += _facilities(user, text, School, "schools")
    results += _facilities(user, text, HealthFacility, "health-facilities")
    return results[: LIMIT * 3]


def _communes(user: Any, text: str) -> list[dict[str, Any]]:
    qs = AdminUnit.objects.current().communes()
    qs = permissions.scope_queryset(user, qs, field="code")
    needle = fold(text)
    qs = qs.annotate(_folded=_folded("name")).filter(Q(_folded__contains=Value(needle)) | Q(code=text))
    out = []
    for unit in qs.annotate(label_point=PointOnSurface("geom")).order_by("name")[:LIMIT]:
        out.append(
            {
                "kind": "commune",
                "code": unit.code,
                "label": unit.name,
                "detail": unit.code,
                "lonlat": _lonlat(unit.label_point),
                "bbox": list(unit.geom.extent),
            }
        )
    return out


def _facilities(user: Any, text: str, model: type[School | HealthFacility], slug: str) -> list[dict[str, Any]]:
    if not _layer_visible(user, slug):
        return []
    scoped = permissions.scope_queryset(user, model.objects.all())
    found = _name_filter(scoped, "name", text).order_by("name")[:LIMIT]
    return [
        {
            "kind": slug,
            "id": obj.pk,
            "label": obj.name,
            "detail": obj.commune_code,
            "lonlat": _lonlat(obj.geom),
            "commune_code": obj.commune_code,
        }
        for obj in found
    ]


def _parcels(user: Any, text: str) -> list[dict[str, Any]]:
    """Parcel key search: commune (name or code) followed by sheet and parcel numbers."""
    match = _PARCEL_NUMBERS.search(text)
    if not match or not _layer_visible(user, "land-parcels"):
        return []
    sheet, number = int(match.group(1)), int(match.group(2))
    place = re.sub(r"\bt[oờ]\s*$", "", text[: match.start()].strip(), flags=re.IGNORECASE).strip(" ,/-")
    communes = AdminUnit.objects.current().communes()
    if place.isdigit():
        communes = communes.filter(code=place)
    elif place:
        communes = communes.annotate(_folded=_folded("name")).filter(_folded__contains=Value(fold(place)))
    else:
        return []
    codes = [c for c in communes.values_list("code", flat=True) if permissions.can_view_commune(user, c)]
    parcels = LandParcel.objects.filter(commune_code__in=codes, sheet_number=sheet, parcel_number=number)
    found = permissions.scope_queryset(user, parcels).annotate(center=Centroid("geom"))[:LIMIT]
    return [
        {
            "kind": "land-parcels",
            "id": p.pk,
            "label": f"Tờ {p.sheet_number}, thửa {p.parcel_number}",
            "detail": f"{p.commune_code} · {p.land_use} · {p.area_m2:.0f} m²",
            "lonlat": _lonlat(p.center),
            "bbox": list(p.geom.extent),
            "commune_code": p.commune_code,
        }
        for p in found
    ]


def _petitions(user: Any, text: str) -> list[dict[str, Any]]:
    """Tracking codes: the exact code, or its beginning (citizens read it off a receipt)."""
    code = text.strip().upper()
    if not _TRACKING.match(code) or not _layer_visible(user, "petitions"):
        return []
    qs = permissions.scope_queryset(user, Petition.objects.filter(tracking_code__istartswith=code))
    return [
        {
            "kind": "petitions",
            "id": p.pk,
            "label": p.tracking_code,
            # Status and category only: never the reporter or the description (public map).
            "detail": f"{p.get_category_display()} · {p.get_status_display()}",
            "lonlat": _lonlat(p.geom),
            "commune_code": p.commune_code,
        }
        for p in qs.order_by("tracking_code")[:LIMIT]
    ]
