from django.apps import AppConfig


class GisIocConfig(AppConfig):
    name = "gis_ioc"
    verbose_name = "gis_ioc"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.core import checks

        from gis_ioc import roles

        checks.register(roles.check_role_permissions)
        # The role groups get their permissions after every migrate; is_staff follows the user's roles.
        roles.connect_signals(self)
