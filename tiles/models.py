"""Models of the tiles app: the bookkeeping that keeps cached tiles fresh."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class TileCacheState(models.Model):
    """Per-layer state of the vector-tile cache (see tiles/cache.py).

    `generation` names the cache directory in use: bumping it drops every cached tile of the layer at
    once (an import, or a version bump that nobody accounted for). `synced_version` is the
    `Layer.version` the cache is known to reflect: a feature edit that purged its own tiles advances it
    without a new generation, so untouched tiles stay cached. `purges` counts purges, so a request that
    rendered a tile from a snapshot older than a purge does not put the stale tile back.
    """

    layer = models.OneToOneField(
        "layers.Layer", on_delete=models.CASCADE, primary_key=True, related_name="tile_cache_state"
    )
    generation = models.PositiveIntegerField(_("thế hệ bộ đệm"), default=1)
    synced_version = models.PositiveIntegerField(_("phiên bản dữ liệu đã đồng bộ"), default=0)
    purges = models.PositiveBigIntegerField(_("số lần xoá ô"), default=0)

    class Meta:
        verbose_name = _("trạng thái bộ đệm ô bản đồ")
        verbose_name_plural = _("trạng thái bộ đệm ô bản đồ")

    def __str__(self) -> str:
        return f"{self.layer_id}: g{self.generation} v{self.synced_version}"
