"""Helpers of the bad-input corpus: send a case, read the message a person would see, count every table."""

from __future__ import annotations

import hashlib
import html
import json
import re
import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import quote

from django.db import connection

# Tables that change on any request without being "written" by it: sessions, caches, throttle counters.
UNTRACKED = re.compile(r"^(django_session|django_cache.*|.*throttle.*|procrastinate_.*)$")
# Django's bare error pages say nothing a person can act on.
GENERIC = {"bad request (400)", "server error (500)", "forbidden (403)"}


def table_counts() -> dict[str, int]:
    """Row counts of every table of the schema (one statement), except UNTRACKED ones."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1")
        tables = [r[0] for r in cursor.fetchall() if not UNTRACKED.match(r[0])]
        if not tables:
            return {}
        sql = " UNION ALL ".join(
            f"SELECT {i}, count(*) FROM {connection.ops.quote_name(t)}"  # noqa: S608 - names from pg_tables
            for i, t in enumerate(tables)
        )
        cursor.execute(sql)
        return {tables[i]: n for i, n in cursor.fetchall()}


def client_address(name: str) -> str:
    """A client address of its own per case (TEST-NET-2), so one case's throttle bucket is not another's."""
    digest = hashlib.sha256(name.encode()).digest()
    return f"198.18.{digest[0]}.{digest[1] or 1}"


def expand(url: str, slugs: list[str], service: str) -> str:
    """Placeholders of the table: CHAIN1900 (a 1,900-operator CQL2 chain), LAYERS21, SERVICE."""
    url = url.replace("CHAIN1900", quote(" + ".join(["1"] * 1900)))
    url = url.replace("LAYERS21", ",".join((slugs * 21)[:21]))
    return url.replace("SERVICE", service)


def message_of(response: Any) -> str:
    """The text a person reads in a refusal: JSON error members, XML text, or the HTML page's text."""
    content = b"".join(response.streaming_content) if response.streaming else response.content
    text = content.decode("utf-8", errors="replace")
    kind = response.get("Content-Type", "")
    if "json" in kind:
        return " ".join(_strings(json.loads(text)))
    if "xml" in kind:
        root = ET.fromstring(content)
        return " ".join(t.strip() for t in root.itertext() if t.strip())
    body = re.sub(r"(?is)<(script|style|head)\b.*?</\1>", " ", text)
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))).strip()


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def is_human(message: str) -> bool:
    """A sentence, not an empty body, a bare status line or a traceback."""
    letters = sum(ch.isalpha() for ch in message)
    return letters >= 8 and message.strip().lower() not in GENERIC and "Traceback" not in message
