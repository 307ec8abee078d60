from django.apps import AppConfig


class SensorsConfig(AppConfig):
    name = "sensors"
    verbose_name = "Quan trắc môi trường"
    default_auto_field = "django.db.models.BigAutoField"
