from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AlertsConfig(AppConfig):
    name = "alerts"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("Cảnh báo và thông báo")

    def ready(self) -> None:
        from alerts.signals import on_data_changed
        from layers.models.catalog import data_changed

        # The one change signal: a committed change queues an evaluation of the rules by the workers.
        data_changed.connect(on_data_changed, dispatch_uid="alerts.signals.on_data_changed")
