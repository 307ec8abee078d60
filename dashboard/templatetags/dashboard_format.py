"""Numbers, money and dates in the reader's locale (1.234.567 ₫ and dd/mm/yyyy in Vietnamese)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import template
from django.utils import formats, translation

register = template.Library()


@register.filter
def num(value: Any, digits: int = 0) -> str:
    """A number with the locale's grouping and decimal separators; '—' for no value."""
    if value is None or value == "":
        return "—"
    try:
        value = Decimal(str(value))
    except ArithmeticError:
        return str(value)
    return formats.number_format(round(value, int(digits)), int(digits), use_l10n=True, force_grouping=True)


@register.filter
def money(value: Any) -> str:
    """Đồng, no decimals: 1.234.567 ₫."""
    return "—" if value in (None, "") else f"{num(value, 0)} ₫"


@register.filter
def day(value: Any) -> str:
    """dd/mm/yyyy in Vietnamese, yyyy-mm-dd otherwise (ISO, unambiguous for English readers)."""
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value[:10])
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        value = value.date()
    if not isinstance(value, dt.date):
        return "—" if value in (None, "") else str(value)
    return value.strftime("%d/%m/%Y") if (translation.get_language() or "vi").startswith("vi") else value.isoformat()


@register.filter
def get(mapping: Any, key: Any) -> Any:
    """mapping[key] in a template (row dicts keyed by column name)."""
    try:
        return mapping.get(key)
    except AttributeError:
        return None
