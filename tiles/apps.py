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
        # MapProxy's layers follow the catalog and the unit sets (tiles.mapproxy.refresh, after commit).
        from django.db.models.signals import post_delete, post_save

        from gis_ioc.models import UnitSet
        from layers.models import Layer

        for model in (Layer, UnitSet):
            for name, signal in (("save", post_save), ("delete", post_delete)):
                uid = f"tiles.mapproxy.{model.__name__}.{name}"
                signal.connect(_refresh_mapproxy, sender=model, dispatch_uid=uid)


def _refresh_mapproxy(**_kwargs: object) -> None:
    """After the transaction that changed a catalog row or a unit set commits, bring MapProxy's configuration
    in step (several changes in one transaction queue several calls: all but the first find nothing to do)."""
    from django.db import transaction

    from tiles import mapproxy

    transaction.on_commit(mapproxy.refresh)
