"""JSON responses that stay inert if a browser ever renders them as HTML.

<, > and & only occur inside JSON strings, so replacing them by their \\u escapes keeps the document
identical for every JSON parser while a `<script>` typed by a citizen can never become markup.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse


def dumps(data: Any) -> str:
    """JSON text with <, > and & escaped."""
    text = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def json_response(data: Any, status: int = 200, content_type: str = "application/json") -> HttpResponse:
    """An HttpResponse carrying escaped JSON (use instead of JsonResponse for user-written text)."""
    response = HttpResponse(dumps(data).encode("utf-8"), status=status, content_type=f"{content_type}; charset=utf-8")
    response["X-Content-Type-Options"] = "nosniff"
    return response
