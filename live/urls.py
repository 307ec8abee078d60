"""The live stream's route (served by uvicorn through gis_ioc/asgi.py; see live/stream.py)."""

from django.urls import URLPattern, path

from live import stream

urlpatterns: list[URLPattern] = [
    path("live/events", stream.events_view, name="live-events"),
]
