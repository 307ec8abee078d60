"""Django's {# #} comment ends at the end of its line: one spread over two lines is printed on the page."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APPS = ["gis_ioc", "layers", "tiles", "petitions", "analysis", "dashboard", "live", "alerts", "sensors"]


def test_no_template_comment_spans_lines():
    open_comments = [
        f"{path.relative_to(ROOT)}:{number}"
        for app in APPS
        for path in sorted((ROOT / app).rglob("templates/**/*.html"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"\{#(?!.*#\})", line)
    ]
    assert open_comments == [], "use {% comment %} for a comment of several lines"
