from django.apps import AppConfig


class LiveConfig(AppConfig):
    name = "live"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from layers.models.catalog import data_changed
        from live.events import on_data_changed

        # The one change signal: every committed Layer.objects.record_change becomes a live event.
        data_changed.connect(on_data_changed, dispatch_uid="live.events.on_data_changed")
