"""Validation shared by the sector models (full_clean), the admin, the REST API and the importers.

Geometry policy (one rule, two paths):
- A record edited one at a time (admin, REST API, field app) with an invalid geometry — a
  self-intersecting "bow-tie", an unclosed or degenerate ring — is **rejected** with GEOS's reason and
  the place of the problem, so the person who drew it fixes it where they are.
- A file import **repairs** it (`repair_geometry`: ST_MakeValid semantics, polygonal parts kept) and
  records the note per row in the import report; an import must not fail on the thousands of tiny
  self-intersections digitised cadastral files carry.
Either way, the database refuses an invalid polygon (CHECK ST_IsValid on the polygon tables), so no
path can store one by accident.
"""

from __future__ import annotations

from django.contrib.gis.geos import GeometryCollection, GEOSGeometry, MultiPolygon
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from layers.landuse import LAND_USE_CODES

POLYGONAL = {"Polygon", "MultiPolygon"}


def as_multipolygon(geom: GEOSGeometry) -> GEOSGeometry:
    """A Polygon promoted to a one-part MultiPolygon (the column type); other types unchanged."""
    if geom.geom_type == "Polygon":
        return MultiPolygon(geom, srid=geom.srid)
    return geom


def check_geometry(geom: GEOSGeometry | None, expected: str, field: str = "geom") -> GEOSGeometry:
    """Validate one geometry for a column of type `expected` ("Point" or "MultiPolygon").

    Returns it ready to store (a Polygon promoted to MultiPolygon); raises ValidationError naming the
    field and the reason (empty, wrong type, invalid with GEOS's explanation).
    """
    if geom is None:
        raise ValidationError({field: _("Thiếu vị trí/hình học.")})
    if geom.empty:
        raise ValidationError({field: _("Hình học rỗng.")})
    if expected == "MultiPolygon":
        geom = as_multipolygon(geom)
    if geom.geom_type != expected:
        raise ValidationError(
            {field: _("Kiểu hình học %(got)s không đúng, cần %(want)s.") % {"got": geom.geom_type, "want": expected}}
        )
    if not geom.valid:
        raise ValidationError(
            {
                field: _(
                    "Hình học không hợp lệ: %(reason)s. Hãy sửa ranh (ví dụ cạnh tự cắt nhau) rồi lưu lại; "
                    "khi nhập tệp, hệ thống tự sửa và ghi chú."
                )
                % {"reason": geom.valid_reason}
            }
        )
    return geom


def repair_geometry(geom: GEOSGeometry) -> tuple[GEOSGeometry, str | None]:
    """Repair an invalid polygonal geometry (make_valid, polygonal parts kept) -> (geometry, note or None).

    Raises ValidationError when nothing polygonal is left (e.g. a ring collapsed to a line).
    """
    if geom.valid:
        return as_multipolygon(geom) if geom.geom_type in POLYGONAL else geom, None
    reason = geom.valid_reason
    fixed = geom.make_valid()
    parts = [g for g in _flatten(fixed) if g.geom_type == "Polygon" and not g.empty and g.area > 0]
    if geom.geom_type in POLYGONAL:
        if not parts:
            raise ValidationError(_("Hình học không hợp lệ và không sửa được: %(reason)s") % {"reason": reason})
        fixed = MultiPolygon(*parts, srid=geom.srid)
    note = _("Đã tự sửa hình học không hợp lệ (%(reason)s).") % {"reason": reason}
    return fixed, str(note)


def _flatten(geom: GEOSGeometry) -> list[GEOSGeometry]:
    if isinstance(geom, GeometryCollection):  # also the Multi* types, its subclasses
        return [g for part in geom for g in _flatten(part)]
    return [geom]


def normalise_land_use(value: str | None) -> str:
    """Upper-case, trimmed land-use code; ValidationError naming the value if it is not an official code."""
    code = (value or "").strip().upper()
    if code not in LAND_USE_CODES:
        raise ValidationError(
            _("Mã mục đích sử dụng đất “%(code)s” không có trong danh mục (Thông tư 27/2018/TT-BTNMT).")
            % {"code": value},
            code="unknown_land_use",
        )
    return code


def error_text(error: ValidationError) -> str:
    """A one-line, human-readable rendering of a ValidationError ("field: message; …") for CLIs and reports."""
    if hasattr(error, "error_dict"):
        return "; ".join(f"{field}: {' '.join(str(m) for m in msgs)}" for field, msgs in error.message_dict.items())
    return " ".join(str(m) for m in error.messages)


__all__ = ["as_multipolygon", "check_geometry", "error_text", "normalise_land_use", "repair_geometry"]
