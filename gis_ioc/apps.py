from django.apps import AppConfig


class GisIocConfig(AppConfig):
    name = "gis_ioc"
    verbose_name = "gis_ioc"
    default_auto_field = "django.db.models.BigAutoField"
