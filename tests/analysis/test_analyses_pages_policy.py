"""The analyses pages follow the same policy as the analyses API: a result layer the user may not see is
never named, and a scoped user never gets a statistics row outside his communes (district totals included)."""

from __future__ import annotations

import pytest

from analysis.models import Analysis
from layers.models import Layer
from tests.conftest import make_user


@pytest.fixture
def analysis(district, gis_staff) -> Analysis:
    layer = Layer.objects.create(
        slug="analysis-secret", title_vi="Kết quả", title_en="Result", visibility="roles", allowed_roles=["gis_staff"],
        source_table="analysis_result_secret",
    )  # fmt: skip
    return Analysis.objects.create(
        type="hotspots", title="Điểm nóng", created_by=gis_staff, status="succeeded", result_layer=layer,
        statistics=[{
            "key": "t", "title_vi": "Bảng", "title_en": "Table",
            "columns": [{"name": "commune_code", "title_vi": "Xã"}, {"name": "n", "title_vi": "Số"}],
            "rows": [{"commune_code": "24931", "n": 11}, {"commune_code": "24928", "n": 22}, {"n": 33}],
        }],
    )  # fmt: skip


def test_a_result_layer_the_user_may_not_see_is_not_named_on_the_pages(analysis, client, leader, gis_staff):
    client.force_login(leader)  # may see analyses, not the role-limited result layer
    for url in ("/analyses/", f"/analyses/{analysis.pk}/"):
        page = client.get(url)
        assert page.status_code == 200
        assert "analysis-secret" not in page.content.decode()
    client.force_login(gis_staff)
    assert "analysis-secret" in client.get(f"/analyses/{analysis.pk}/").content.decode()


def test_a_scoped_user_sees_only_his_communes_rows_on_the_page(analysis, client):
    officer = make_user("scoped_planner", "planner", communes=["24931"])
    client.force_login(officer)
    page = client.get(f"/analyses/{analysis.pk}/")
    cells = [row for t in page.context["data"]["statistics"] for row in t["rows"]]
    assert cells == [{"commune_code": "24931", "n": 11}]  # not 24928, not the district total
