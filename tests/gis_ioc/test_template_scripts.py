"""Data reaches scripts as JSON (json_script), never as template output inside a <script>: numbers printed
by a template follow the active locale, and `30,0` is a syntax error in JavaScript."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = re.compile(r"<script(?P<attrs>[^>]*)>(?P<body>.*?)</script>", re.DOTALL | re.IGNORECASE)


def _templates() -> list[Path]:
    skip = {".venv", "node_modules", "static", ".git", "media"}
    return [p for p in ROOT.rglob("templates/**/*.html") if not skip & set(p.relative_to(ROOT).parts)]


def test_no_template_prints_a_variable_inside_an_inline_script():
    offenders = []
    for path in _templates():
        for match in SCRIPT.finditer(path.read_text(encoding="utf-8")):
            if "application/json" in match["attrs"]:
                continue
            if "{{" in match["body"] or "{%" in match["body"]:
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == [], "use json_script for data a script needs"


@pytest.mark.django_db
@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_field_app_receives_its_accuracy_settings_as_json_in_both_languages(client, field_officer, lang):
    client.force_login(field_officer)
    html = client.get(f"/field/?lang={lang}").content.decode()
    config = '{"warnAccuracy": 30.0, "maxAccuracy": 100.0}'
    assert f'<script id="field-config" type="application/json">{config}' in html
    assert "30,0" not in html


@pytest.mark.django_db
def test_the_admin_map_widget_gets_its_centre_as_json_in_vietnamese(client, district):
    from django.contrib.auth.models import User

    from gis_ioc.models import AdminUnit

    client.force_login(User.objects.create_superuser("root", "root@example.org", "pw-root-123456"))
    unit = AdminUnit.objects.filter(level="commune").first()
    html = client.get(f"/admin/gis_ioc/adminunit/{unit.pk}/change/?lang=vi").content.decode()
    assert '"default_lon": 108.54' in html and '"default_lat": 11.78' in html
