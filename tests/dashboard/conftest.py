"""Fixtures of the dashboard tests: the demo-like district and signed-in clients."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.dashboard import demo_data

YEAR_RANGE = {"start": "2024-01-01", "end": "2024-12-31"}


@pytest.fixture
def demo(district):
    """A few records of every sector in every commune, two plans and one conflicting parcel."""
    return demo_data.build()


def client_for(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="vi")
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def leader_client(leader):
    return client_for(leader)


@pytest.fixture
def scoped_client(scoped_officer):
    return client_for(scoped_officer)


@pytest.fixture
def anon_client():
    return client_for(None)
