"""Map widget for the Django admin with OpenLayers served from our static files (closed networks:
no CDN, no online basemap). The base layer is the district's commune boundaries."""

from __future__ import annotations

from django.contrib.gis.forms.widgets import OpenLayersWidget
from django.urls import reverse


class LocalMapWidget(OpenLayersWidget):
    """OpenLayers editing widget centred on the district, with local assets only."""

    template_name = "gis_ioc/widgets/local_map.html"
    default_lon = 108.54
    default_lat = 11.78
    default_zoom = 11

    class Media:
        # extend=False: Django's OpenLayersWidget.Media lists ol.js/ol.css from a CDN; merging them in
        # (the default) would make every admin map page fetch from the internet.
        extend = False
        css = {"all": ("vendor/ol/ol.css", "gis/css/ol3.css")}
        js = ("vendor/ol/ol.js", "gis/js/OLMapWidget.js", "gis_ioc/local_map_widget.js")

    def get_context(self, name: str, value: object, attrs: dict | None) -> dict:
        context = super().get_context(name, value, attrs)
        # Options as JSON (read by gis_ioc/local_map_widget.js): no inline script, which the CSP forbids.
        context["map_options_id"] = f"{context['id']}_map_options"
        context["map_options"] = {
            "geom_name": context["geom_type"],
            "id": context["id"],
            "map_id": f"{context['id']}_map",
            "map_srid": self.map_srid,
            "name": context["name"],
            "module": context["module"],
            "default_lon": self.default_lon,
            "default_lat": self.default_lat,
            "default_zoom": self.default_zoom,
            "communes_url": reverse("admin-communes-geojson"),
        }
        return context
