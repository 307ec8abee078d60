from django.apps import AppConfig


class TilesConfig(AppConfig):
    name = "tiles"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from layers import catalog_cache
        from tiles.models import TileCacheState

        # A layer's tile-cache state (generation, purges) is part of its catalog row's hash, so a cached
        # copy never serves tiles of an old generation.
        catalog_cache.register_companion(TileCacheState)
