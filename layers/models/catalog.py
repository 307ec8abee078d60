"""The layer catalog: one record per published layer; every channel (REST, OGC, tiles, MapProxy,
exports, dashboard) reads it, so adding a layer needs no view code."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.apps import apps
from django.contrib.gis.db import models
from django.contrib.postgres.fields import ArrayField
from django.db import connection, transaction
from django.dispatch import Signal
from django.utils import translation
from django.utils.translation import gettext_lazy as _


class Visibility(models.TextChoices):
    PUBLIC = "public", _("Công khai")
    STAFF = "staff", _("Cán bộ (đăng nhập)")
    ROLES = "roles", _("Theo vai trò")


# The one "data changed" event. Sent once the writing transaction commits, with
# `changes`: [(layer pk, the version its change produced)] for every layer over the changed data, and
# `geometries`: the old and new geometries of the changed features (None: the whole layer changed), and
# `features`: [(feature id, commune code)] when the writer named them (None: not named).
# Subscribers: the tile caches (tiles.cache), the live events (live.events), anything that must follow edits.
data_changed = Signal()


class LayerQuerySet(models.QuerySet["Layer"]):
    def vector(self) -> LayerQuerySet:
        return self.filter(kind=Layer.Kind.VECTOR)

    def raster(self) -> LayerQuerySet:
        return self.filter(kind=Layer.Kind.RASTER)

    def visible_to(self, user: Any) -> LayerQuerySet:
        """The layers of this queryset the user may see (the rule is gis_ioc.permissions')."""
        from gis_ioc import permissions

        return permissions.visible_layers(user, self)  # type: ignore[return-value]

    def over(self, source: type[models.Model] | str) -> list[Layer]:
        """Every catalog layer whose features live in this model's table (or this table): a filtered
        view, a second slug, an imported table — all show the same rows."""
        table = source if isinstance(source, str) else source._meta.db_table
        found: list[Layer] = []
        for layer in self:  # the catalog is small: whole rows, so callers can check visibility and fields
            try:
                layer_table = layer.db_table()
            except LookupError:  # a catalog row naming a model that is no longer installed
                continue
            if layer_table == table:
                found.append(layer)
        return found

    def showing_all_of(self, source: type[models.Model] | str) -> list[Layer]:
        """The layers over this model or table that show all of it (no source filter): only these speak
        for the whole table — a statistic over it, a channel outside the feature APIs (Open311)."""
        return [layer for layer in self.over(source) if not layer.source_filter]

    def record_change(
        self,
        source: type[models.Model] | str | Layer,
        geometries: Iterable[Any | None] | None = None,
        *,
        features: Iterable[tuple[Any, str | None]] | None = None,
    ) -> list[tuple[int, int]]:
        """Record that rows of a model or table changed — THE call every writer makes (admin, REST,
        imports, the petitions workflow, analyses, notebooks, the demo).

        Bumps the version and data time of every layer over that data in one statement, then, after the
        transaction commits, sends `data_changed` so caches drop exactly what the geometries touch (all of
        each layer when `geometries` is None). `source` may be a layer: the layers over its table, or the
        layer alone when it has none (a raster, whose file is its data). `features`: the changed features'
        (id, commune code), for subscribers that tell people what changed where (live events). Returns
        [(layer pk, new version)]."""
        from django.utils import timezone

        if isinstance(source, Layer):
            table = source.db_table()
            ids = [layer.pk for layer in self.over(table)] if table else [source.pk]
        else:
            ids = [layer.pk for layer in self.over(source)]
        if not ids:
            return []
        catalog = connection.ops.quote_name(Layer._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {catalog} SET version = version + 1, data_updated_at = %s"  # noqa: S608 - model metadata
                " WHERE id = ANY(%s) RETURNING id, version",
                [timezone.now(), ids],
            )
            changes = [(int(pk), int(version)) for pk, version in cursor.fetchall()]
        geoms = None if geometries is None else [g for g in geometries if g is not None]
        named = None if features is None else [(pk, code) for pk, code in features]
        transaction.on_commit(
            lambda: data_changed.send(sender=Layer, changes=changes, geometries=geoms, features=named)
        )
        return changes


class Layer(models.Model):
    """A published layer.

    `attributes` is the whitelist: a list of {"name", "title_vi", "title_en", "type", "visibility",
    "roles", "channels"}; a field not listed there is never exposed by any channel. `visibility` of an
    attribute works like the layer's own (public / staff / roles). `channels` (optional) limits it to
    some of "rest", "ogc", "tiles", "export".
    """

    class Kind(models.TextChoices):
        VECTOR = "vector", _("Véc-tơ")
        RASTER = "raster", _("Ảnh/raster")

    class StyleKind(models.TextChoices):
        SINGLE = "single", _("Một màu")
        CATEGORIES = "categories", _("Theo nhóm giá trị")
        GRADUATED = "graduated", _("Phân cấp giá trị")

    slug = models.SlugField(_("mã lớp"), max_length=80, unique=True)
    title_vi = models.CharField(_("tên (tiếng Việt)"), max_length=200)
    title_en = models.CharField(_("tên (tiếng Anh)"), max_length=200)
    description_vi = models.TextField(_("mô tả (tiếng Việt)"), blank=True)
    description_en = models.TextField(_("mô tả (tiếng Anh)"), blank=True)
    kind = models.CharField(_("loại"), max_length=10, choices=Kind.choices, default=Kind.VECTOR)
    # Source: a sector model ("app_label.Model"), or an imported table, or a raster file.
    source_model = models.CharField(_("mô hình nguồn"), max_length=100, blank=True)
    source_table = models.CharField(_("bảng nguồn"), max_length=100, blank=True)
    source_filter = models.JSONField(
        _("điều kiện lọc nguồn"),
        default=dict,
        blank=True,
        help_text=_('Bộ lọc Django áp lên mô hình nguồn, ví dụ {"plan_id": 1}'),
    )
    raster_path = models.CharField(_("tệp raster (COG)"), max_length=500, blank=True)
    geometry_field = models.CharField(_("trường hình học"), max_length=100, default="geom")
    geometry_type = models.CharField(_("kiểu hình học"), max_length=20, blank=True)
    id_field = models.CharField(_("trường khóa"), max_length=50, default="id")
    style = models.JSONField(_("kiểu hiển thị"), default=dict, blank=True)
    legend = models.JSONField(_("chú giải"), default=list, blank=True)
    attribution = models.CharField(_("nguồn dữ liệu"), max_length=300, blank=True)
    visibility = models.CharField(_("quyền xem"), max_length=10, choices=Visibility.choices, default=Visibility.STAFF)
    allowed_roles = ArrayField(
        models.CharField(max_length=30), default=list, blank=True, verbose_name=_("vai trò được xem")
    )
    edit_roles = ArrayField(
        models.CharField(max_length=30), default=list, blank=True, verbose_name=_("vai trò được sửa")
    )
    attributes = models.JSONField(_("thuộc tính được công bố"), default=list, blank=True)
    search_fields = ArrayField(
        models.CharField(max_length=50), default=list, blank=True, verbose_name=_("trường tìm kiếm")
    )
    temporal_field = models.CharField(_("trường thời gian"), max_length=50, blank=True)
    # With it, `temporal_field` is the first day of a validity period and this field the day after its last
    # (open: NULL): the layer shows the rows valid today, and `datetime=` asks for those valid then
    # (administrative units by date). See layers/source.py `LayerSource.validity_sql`.
    valid_to_field = models.CharField(_("trường hết hiệu lực"), max_length=50, blank=True)
    min_zoom = models.PositiveSmallIntegerField(_("mức thu phóng nhỏ nhất"), default=8)
    max_zoom = models.PositiveSmallIntegerField(_("mức thu phóng lớn nhất"), default=20)
    sort_order = models.PositiveIntegerField(_("thứ tự"), default=100)
    is_demo = models.BooleanField(_("dữ liệu mẫu"), default=False)
    # Bumped by every edit or import of the layer's data: part of every cached tile's key.
    version = models.PositiveIntegerField(_("phiên bản dữ liệu"), default=1)
    updated_at = models.DateTimeField(_("cập nhật lúc"), auto_now=True)
    data_updated_at = models.DateTimeField(_("dữ liệu cập nhật lúc"), null=True, blank=True)

    objects = LayerQuerySet.as_manager()

    class Meta:
        verbose_name = _("lớp bản đồ")
        verbose_name_plural = _("danh mục lớp bản đồ")
        ordering = ["sort_order", "slug"]

    def __str__(self) -> str:
        return self.slug

    # --- presentation -------------------------------------------------------------------------
    @property
    def title(self) -> str:
        """The title in the active language (Vietnamese unless English is selected)."""
        return self.title_en if translation.get_language() == "en" and self.title_en else self.title_vi

    @property
    def description(self) -> str:
        return (
            self.description_en if translation.get_language() == "en" and self.description_en else self.description_vi
        )

    def attribute(self, name: str) -> dict[str, Any] | None:
        return next((a for a in self.attributes if a.get("name") == name), None)

    def attribute_title(self, name: str) -> str:
        attr = self.attribute(name) or {}
        if translation.get_language() == "en":
            return attr.get("title_en") or attr.get("title_vi") or name
        return attr.get("title_vi") or name

    # --- data access --------------------------------------------------------------------------
    def model_class(self) -> type[models.Model] | None:
        """The sector model behind the layer, or None for an imported table or a raster."""
        if not self.source_model:
            return None
        return apps.get_model(self.source_model)

    def base_queryset(self) -> models.QuerySet[Any]:
        """All features of the layer, before any permission or request filter."""
        model = self.model_class()
        if model is None:
            raise LookupError(f"Layer {self.slug} has no model source")
        return model._default_manager.filter(**(self.source_filter or {}))

    def db_table(self) -> str:
        """The table holding the features (sector model table or imported table)."""
        model = self.model_class()
        return model._meta.db_table if model is not None else self.source_table

    def record_change(self, geometries: Iterable[Any | None] | None = None) -> None:
        """Record that this layer's data changed (and so every layer over the same table): see
        `LayerQuerySet.record_change`. Without geometries the whole layer changed (an import)."""
        Layer.objects.record_change(self, geometries)
        self.refresh_from_db(fields=["version", "data_updated_at"])


class LayerChange(models.Model):
    """Audit trail: every create/update/delete of a feature through an API or import (who, when, what)."""

    class Action(models.TextChoices):
        CREATE = "create", _("Tạo mới")
        UPDATE = "update", _("Cập nhật")
        DELETE = "delete", _("Xoá")
        IMPORT = "import", _("Nhập dữ liệu")

    layer = models.ForeignKey(Layer, on_delete=models.CASCADE, related_name="changes")
    feature_id = models.CharField(max_length=64, blank=True)
    action = models.CharField(max_length=10, choices=Action.choices)
    user = models.ForeignKey("auth.User", null=True, blank=True, on_delete=models.SET_NULL)
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        verbose_name = _("lịch sử thay đổi")
        verbose_name_plural = _("lịch sử thay đổi")
        ordering = ["-at"]
