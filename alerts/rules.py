"""What a rule may say (validation naming the field to fix) and which layers an alert of it concerns.

The layers decide who may see the alert (alerts.models.AlertQuerySet.visible_to, live/policy.py for the
in-app event): a statistic's alert names, for each table the statistic reads, a layer showing all of that
table — the same test the dashboard applies before showing the statistic (dashboard.stats.can_view).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from gis_ioc import roles

PERCENT_UNITS = {"%"}
PETITIONS_TABLE = "petitions_petition"
DOSSIERS_TABLE = "layers_dossier"
BOUNDARIES_TABLE = "gis_ioc_adminunit"


def rule_errors(rule: Any) -> dict[str, str]:
    """{field: message} of everything wrong with the rule (empty when it can be saved)."""
    from layers import statistics
    from petitions.models import Category

    errors: dict[str, str] = {}
    kind = rule.kind
    if kind == "threshold":
        stat = statistics.STATISTICS.get(rule.statistic or "")
        if stat is None:
            errors["statistic"] = _("Chỉ tiêu “%(code)s” không có trong danh mục chỉ tiêu.") % {
                "code": rule.statistic or ""
            }
        if not rule.period:
            errors["period"] = _("Chọn kỳ tính (ngày, tuần, tháng, quý hoặc năm).")
        if not rule.operator:
            errors["operator"] = _("Chọn phép so sánh.")
        if rule.value is None:
            errors["value"] = _("Nhập giá trị ngưỡng.")
        elif stat is not None:
            if stat.unit in PERCENT_UNITS and not 0 <= rule.value <= 100:
                errors["value"] = _("Chỉ tiêu này là tỷ lệ phần trăm: ngưỡng phải từ 0 đến 100.")
            elif rule.value < 0 and stat.unit not in PERCENT_UNITS:
                errors["value"] = _("Chỉ tiêu này không âm: ngưỡng âm không bao giờ xảy ra.")
            elif rule.value == 0 and rule.operator == "lt":
                errors["value"] = _("Chỉ tiêu này không âm: “nhỏ hơn 0” không bao giờ xảy ra.")
    elif kind == "near_place":
        if rule.category and rule.category not in Category.values:
            errors["category"] = _("Lĩnh vực “%(code)s” không có trong danh mục.") % {"code": rule.category}
        if rule.place is None:
            errors["place"] = _("Chọn địa điểm (kinh độ, vĩ độ).")
        elif not (-180 <= rule.place.x <= 180 and -90 <= rule.place.y <= 90):
            errors["place"] = _("Tọa độ địa điểm nằm ngoài Trái Đất.")
        if rule.radius_m is None or rule.radius_m <= 0:
            errors["radius_m"] = _("Bán kính phải lớn hơn 0 mét.")
        elif rule.radius_m > 100_000:
            errors["radius_m"] = _("Bán kính tối đa 100 km.")
    elif kind not in ("anomaly", "sla_petition", "sla_dossier"):
        errors["kind"] = _("Loại quy tắc không hợp lệ.")
    unknown_roles = [r for r in rule.recipient_roles or () if r not in roles.ROLES]
    if unknown_roles:
        errors["recipient_roles"] = _("Vai trò không tồn tại: %(names)s.") % {"names": ", ".join(unknown_roles)}
    known_communes = _commune_codes()
    for name in ("communes", "recipient_communes"):
        bad = [c for c in getattr(rule, name) or () if c not in known_communes]
        if bad:
            errors[name] = _("Mã xã không tồn tại: %(codes)s.") % {"codes": ", ".join(bad)}
    # The form says whether people are named (its M2M is saved after the row); otherwise ask the database.
    given = getattr(rule, "_users_given", None)
    has_users = given if given is not None else rule.pk is not None and rule.recipient_users.exists()
    if not rule.recipient_roles and not has_users:
        errors.setdefault("recipient_roles", _("Chọn ít nhất một vai trò hoặc một người nhận cảnh báo."))
    return errors


def _commune_codes() -> set[str]:
    from gis_ioc.models import AdminUnit

    return set(AdminUnit.objects.filter(level="commune").values_list("code", flat=True))


def _layers_of(tables: tuple[str, ...] | list[str]) -> list[str]:
    from layers import statistics
    from layers.models import Layer

    vector = Layer.objects.vector().order_by("sort_order", "slug")
    slugs: list[str] = []
    for table in tables:
        if table in statistics.REFERENCE_TABLES:
            continue
        showing = vector.showing_all_of(table)
        if not showing:  # no layer publishes the table: fail closed (the boundaries alone would widen it)
            return []
        slugs.append(showing[0].slug)
    if not slugs:  # reference data only (population, area): the boundaries layer speaks for it
        slugs = [layer.slug for layer in vector.showing_all_of(BOUNDARIES_TABLE)[:1]]
    return list(dict.fromkeys(slugs))


def layer_slugs(rule: Any, statistic: str | None = None) -> list[str]:
    """The layers an alert of this rule concerns; empty when no layer publishes its data (then nobody but
    administrators sees it, and no live event is published)."""
    from layers import statistics

    if rule.kind in ("sla_petition", "near_place"):
        return _layers_of([PETITIONS_TABLE])
    if rule.kind == "sla_dossier":
        return _layers_of([DOSSIERS_TABLE])
    code = statistic or rule.statistic
    return _layers_of(list(statistics.STATISTICS[code].sources))
