"""Bad tile requests: clear 4xx answers, decided before the database is asked anything."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_zoom_99_is_404_without_a_query(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/tiles/schools/99/0/0.mvt")
    assert response.status_code == 404
    assert "0–24" in response.json()["detail"]


def test_x_beyond_2_to_the_z_is_404_without_a_query(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/tiles/schools/3/8/0.mvt")
    assert response.status_code == 404


def test_y_beyond_2_to_the_z_is_404_without_a_query(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/tiles/schools/3/0/8.mvt")
    assert response.status_code == 404


def test_a_negative_coordinate_is_400_without_a_query(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/tiles/schools/3/-1/0.mvt")
    assert response.status_code == 400
    assert "x=-1" in response.json()["detail"]


def test_a_non_integer_coordinate_is_400_without_a_query(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/tiles/schools/3/1.5/0.mvt")
    assert response.status_code == 400


def test_an_unknown_layer_is_404(client):
    response = client.get("/tiles/no-such-layer/10/815/475.mvt")
    assert response.status_code == 404
    assert "no-such-layer" in response.json()["detail"]


def test_a_private_layer_asked_anonymously_is_404(client):
    response = client.get("/tiles/land-parcels/14/13052/7607.mvt")
    assert response.status_code == 404


def test_a_zoom_outside_the_layers_range_is_404(client, gis_staff):
    client.force_login(gis_staff)
    response = client.get("/tiles/land-parcels/9/407/237.mvt")  # parcels start at z13
    assert response.status_code == 404
    assert "13" in response.json()["detail"]


def test_a_layer_without_geometry_has_no_tiles(client):
    response = client.get("/tiles/planning-plans/10/815/475.mvt")
    assert response.status_code == 404
