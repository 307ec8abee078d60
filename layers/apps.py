from django.apps import AppConfig
from django.db.models.signals import post_migrate


class LayersConfig(AppConfig):
    name = "layers"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from layers.catalog_defaults import sync_default_layers

        # After migrate, every database (the test database too) has the full catalog.
        post_migrate.connect(sync_default_layers, sender=self, dispatch_uid="layers.sync_default_layers")
