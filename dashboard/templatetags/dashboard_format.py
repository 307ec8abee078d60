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
    """A number grouped by thousands with the locale's separators (1.234.567,5 in Vietnamese); at most
    `digits` decimals, trailing zeros dropped; '—' for no value."""
    if value is None or value == "":
        return "—"
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return str(value)
    text = f"{round(number, int(digits)):,.{int(digits)}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    thousand = str(formats.get_format("THOUSAND_SEPARATOR"))
    decimal = str(formats.get_format("DECIMAL_SEPARATOR"))
    return text.replace(",", "\x00").replace(".", decimal).replace("\x00", thousand)


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


@register.filter
def cell(value: Any) -> str:
    """A table cell: ISO dates as dates, numbers as numbers, the rest as text."""
    if isinstance(value, str) and len(value) == 10 and value[4:5] == "-" and value[7:8] == "-":
        return day(value)
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value)
    if isinstance(value, int | float | Decimal):
        return num(value, 2)
    return str(value)
