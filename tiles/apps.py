from django.apps import AppConfig


class TilesConfig(AppConfig):
    name = "tiles"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from layers import catalog_cache
        from layers.models.catalog import data_changed
        from tiles.cache import on_data_changed
        from tiles.models import TileCacheState

        # A layer's tile-cache state (generation, purges) is part of its catalog row's hash, so a cached
        # copy never serves tiles of an old generation.
        catalog_cache.register_companion(TileCacheState)
        # The one change signal: every writer's Layer.record_change purges the tiles it touched.
        data_changed.connect(on_data_changed, dispatch_uid="tiles.cache.on_data_changed")
