"""Create, update and delete features of editable layers through the REST API.

The permission module decides (`can_edit_feature`, before and after the change, so a feature cannot be
moved out of — or into — a commune outside the user's scope); the model's full_clean validates (a
geometry outside the district is rejected by SectorFeature.assign_commune); every change is written to
LayerChange (who, when, before, after) in the same transaction, and the layer's version is bumped so
cached tiles are invalidated.

A model may declare itself workflow-managed (a `workflow_fields` class attribute naming the fields its
workflow owns, and a `workflow_url()` method naming where a step is taken, as petitions.Petition does):
then, for every catalog layer over it, this API refuses creating and deleting its records and any change
of a workflow field, so that each of those changes is a workflow step with its permission check and its
history event.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib.gis.db.models import GeometryField
from django.contrib.gis.geos import GEOSException, GEOSGeometry, MultiLineString, MultiPoint, MultiPolygon
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext as _
from rest_framework import serializers
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework_gis.fields import GeometryField as GeoJSONField

from gis_ioc import permissions
from layers.models import Layer, LayerChange, SectorFeature

_MULTI = {"MULTIPOLYGON": MultiPolygon, "MULTIPOINT": MultiPoint, "MULTILINESTRING": MultiLineString}


def workflow_fields(model: type[models.Model] | None) -> frozenset[str] | None:
    """The fields a workflow owns on this model (its `workflow_fields` declaration); None when it has none."""
    declared = getattr(model, "workflow_fields", None)
    return frozenset(declared) if declared is not None else None


def _workflow_hint(instance: Any) -> str:
    url = instance.workflow_url() if hasattr(instance, "workflow_url") else ""
    if url:
        return _("Hãy thực hiện thao tác của quy trình qua %(url)s.") % {"url": url}
    return _("Hãy thực hiện thao tác của quy trình xử lý.")


def _workflow_values(instance: Any, names: frozenset[str]) -> dict[str, Any]:
    by_name = {f.name: f for f in type(instance)._meta.concrete_fields}
    return {n: getattr(instance, by_name[n].attname) for n in names if n in by_name}


def _refuse_workflow_changes(instance: Any, before: dict[str, Any]) -> None:
    """Refuse a write that changed a workflow-owned field (an unchanged value, as a PUT resends, is fine)."""
    changed = sorted(n for n, v in _workflow_values(instance, frozenset(before)).items() if v != before[n])
    if changed:
        message = _("Trường này do quy trình xử lý quản lý, không sửa trực tiếp được.") + " " + _workflow_hint(instance)
        raise serializers.ValidationError({name: [message] for name in changed})


def _geo_field(layer: Layer, model: type[models.Model]) -> GeometryField | None:
    if not layer.geometry_field or "__" in layer.geometry_field:
        return None
    f = model._meta.get_field(layer.geometry_field)
    return f if isinstance(f, GeometryField) else None


def writable_fields(layer: Layer, user: permissions.AnyUser) -> list[models.Field]:
    """Model fields the user may write: visible, editable, not the key; commune_code only for tabular records."""
    model = layer.model_class()
    if model is None:
        return []
    by_name = {f.name: f for f in model._meta.concrete_fields} | {f.attname: f for f in model._meta.concrete_fields}
    tabular = getattr(model, "locate_by", "geom") is None
    result = []
    for name in permissions.visible_fields(user, layer, "rest"):
        f = by_name.get(name)
        if f is None or f.primary_key or not f.editable:
            continue
        if name == "commune_code" and not tabular:
            continue  # assigned from the geometry
        result.append(f)
    return result


def _parse_geometry(value: Any, field: GeometryField) -> GEOSGeometry | None:
    if value is None:
        return None
    try:
        # djangorestframework-gis reads GeoJSON (dict or text) and WKT into a GEOS geometry.
        geom = GeoJSONField().to_internal_value(value)
    except (ValidationError, serializers.ValidationError, GEOSException, ValueError, TypeError):
        raise serializers.ValidationError({"geometry": [_("Hình học không đọc được (cần GeoJSON).")]}) from None
    if geom.srid is None:
        geom.srid = 4326
    expected = field.geom_type.upper()
    actual = geom.geom_type.upper()
    if expected in _MULTI and actual == expected[5:]:
        geom = _MULTI[expected](geom, srid=geom.srid)  # a single Polygon is accepted for a MultiPolygon layer
    elif expected not in ("GEOMETRY", actual):
        raise serializers.ValidationError(
            {
                "geometry": [
                    _("Sai kiểu hình học: lớp này cần %(e)s, nhận được %(a)s.")
                    % {"e": field.geom_type, "a": geom.geom_type}
                ]
            }
        )
    if not geom.valid:
        raise serializers.ValidationError({"geometry": [_("Hình học không hợp lệ: %(r)s") % {"r": geom.valid_reason}]})
    if geom.srid != field.srid:
        geom.transform(field.srid)
    return geom


def snapshot(layer: Layer, instance: models.Model) -> dict[str, Any]:
    """The feature as recorded in LayerChange: every whitelisted attribute and the geometry as GeoJSON."""
    data: dict[str, Any] = {}
    for attr in layer.attributes or []:
        if hasattr(instance, attr["name"]):
            value = getattr(instance, attr["name"])
            data[attr["name"]] = value if isinstance(value, int | float | str | bool | type(None)) else str(value)
    geo = _geo_field(layer, type(instance))
    if geo is not None:
        geom = getattr(instance, geo.name)
        data["geometry"] = json.loads(geom.geojson) if geom is not None else None
    return data


def _apply(layer: Layer, user: permissions.AnyUser, instance: Any, payload: dict[str, Any], partial: bool) -> None:
    """Set the payload's properties and geometry on the instance, field by field through DRF's conversion."""
    if not isinstance(payload, dict):
        raise serializers.ValidationError({"non_field_errors": [_("Cần một đối tượng GeoJSON Feature.")]})
    props = payload.get("properties", payload if payload.get("type") != "Feature" else {})
    if not isinstance(props, dict):
        raise serializers.ValidationError({"properties": [_("properties phải là một đối tượng.")]})
    fields = {
        f.attname if f.name != f.attname and f.attname in props else f.name: f for f in writable_fields(layer, user)
    }
    unknown = [k for k in props if k not in fields and k not in ("id", "geometry", "type")]
    if unknown:
        raise serializers.ValidationError({k: [_("Không có trường này hoặc bạn không được sửa.")] for k in unknown})
    mapper = serializers.ModelSerializer.serializer_field_mapping
    errors: dict[str, list[str]] = {}
    for name, f in fields.items():
        if name not in props:
            continue
        field_class = mapper.get(type(f)) or next(
            (v for k, v in mapper.items() if isinstance(f, k)), serializers.CharField
        )
        kwargs: dict[str, Any] = {"allow_null": f.null}
        if isinstance(f, models.DecimalField):
            kwargs.update(max_digits=f.max_digits, decimal_places=f.decimal_places)
        if isinstance(f, models.CharField | models.TextField):
            kwargs["allow_blank"] = True
        try:
            value = field_class(**kwargs).run_validation(props[name]) if props[name] is not None else None
        except serializers.ValidationError as exc:
            errors[name] = [str(e) for e in exc.detail]
            continue
        setattr(instance, f.attname if name == f.attname else f.name, value)
    geo = _geo_field(layer, type(instance))
    if geo is not None and ("geometry" in payload or not partial):
        setattr(instance, geo.name, _parse_geometry(payload.get("geometry"), geo))
    if errors:
        raise serializers.ValidationError(errors)
    locate_by: str | None = getattr(type(instance), "locate_by", "geom")
    commune_code: str = getattr(instance, "commune_code", None) or ""
    if locate_by is None and commune_code and isinstance(instance, SectorFeature):
        # The version of the code valid on the record's date; a code not valid then is named with its periods.
        try:
            instance.commune = instance.unit_for_code(commune_code, instance.record_date())
        except ValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None


def _validate(instance: models.Model) -> None:
    try:
        instance.full_clean()
    except ValidationError as exc:
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        raise serializers.ValidationError({("geometry" if k == "geom" else k): v for k, v in detail.items()}) from None


def _check_edit(layer: Layer, user: permissions.AnyUser, instance: models.Model) -> None:
    if not permissions.can_edit_feature(user, layer, getattr(instance, "commune_code", None) or None):
        raise PermissionDenied(_("Bạn không có quyền sửa đối tượng này."))


def editable_queryset(layer: Layer, user: permissions.AnyUser) -> models.QuerySet[Any]:
    """Features of the layer within the user's commune scope."""
    qs = layer.base_queryset()
    if any(f.name == "commune_code" for f in qs.model._meta.concrete_fields):
        qs = permissions.scope_queryset(user, qs)
    return qs


def get_instance(layer: Layer, user: permissions.AnyUser, fid: str) -> Any:
    qs = editable_queryset(layer, user)
    try:
        return qs.get(pk=fid)
    except (qs.model.DoesNotExist, ValueError, ValidationError):
        raise NotFound(_("Không có đối tượng %(id)s.") % {"id": fid[:40]}) from None


def _drawn(instance: Any) -> Any:
    drawn = getattr(instance, "drawn_geometry", None)
    return drawn() if drawn is not None else None


def _commune(instance: Any) -> str | None:
    return getattr(instance, "commune_code", None) or None


def _record(
    layer: Layer,
    user: permissions.AnyUser,
    action: str,
    fid: Any,
    before: Any,
    after: Any,
    geometries: list[Any],
    communes: tuple[str | None, ...] = (),
) -> None:
    """The audit row, and the one change signal for every layer over the feature's table (tiles purge
    exactly the old and new places; live events tell the old and the new commune)."""
    LayerChange.objects.create(
        layer=layer,
        feature_id=str(fid),
        action=action,
        user=user if user is not None and user.is_authenticated else None,
        before=before,
        after=after,
    )
    named = [(fid, code) for code in dict.fromkeys(communes)] if communes else [(fid, None)]
    Layer.objects.record_change(layer.db_table(), geometries, features=named)


def _save(instance: models.Model) -> None:
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as exc:
        raise serializers.ValidationError(
            {
                "non_field_errors": [
                    _("Trùng khoá hoặc vi phạm ràng buộc: %(e)s") % {"e": str(exc).splitlines()[0][:200]}
                ]
            }
        ) from None


def create_feature(layer: Layer, user: permissions.AnyUser, payload: dict[str, Any]) -> models.Model:
    """Validate and insert a feature; returns the saved instance."""
    if not permissions.can_edit_layer(user, layer):
        raise PermissionDenied(_("Bạn không có quyền thêm đối tượng vào lớp này."))
    model = layer.model_class()
    if model is None:
        raise PermissionDenied(_("Lớp này không sửa được qua API."))
    if workflow_fields(model) is not None:
        raise PermissionDenied(
            _("Lớp này do quy trình xử lý quản lý: đối tượng chỉ được tạo qua kênh tiếp nhận, không qua API sửa lớp.")
        )
    instance = model(**{k: v for k, v in (layer.source_filter or {}).items() if "__" not in k})
    _apply(layer, user, instance, payload, partial=False)
    _validate(instance)
    _check_edit(layer, user, instance)
    with transaction.atomic():
        _save(instance)
        _record(
            layer,
            user,
            LayerChange.Action.CREATE,
            instance.pk,
            None,
            snapshot(layer, instance),
            [_drawn(instance)],
            (_commune(instance),),
        )
    return instance


def update_feature(
    layer: Layer, user: permissions.AnyUser, fid: str, payload: dict[str, Any], partial: bool
) -> models.Model:
    """Validate and update a feature (PUT or PATCH)."""
    with transaction.atomic():
        instance = get_instance(layer, user, fid)
        _check_edit(layer, user, instance)
        before, old_geometry, old_commune = snapshot(layer, instance), _drawn(instance), _commune(instance)
        owned = workflow_fields(type(instance))
        workflow_before = _workflow_values(instance, owned) if owned is not None else None
        _apply(layer, user, instance, payload, partial=partial)
        if workflow_before is not None:
            _refuse_workflow_changes(instance, workflow_before)
        if hasattr(instance, "commune_id") and getattr(type(instance), "locate_by", None) and "geometry" in payload:
            instance.commune = None  # re-located from the new geometry by full_clean
        _validate(instance)
        _check_edit(layer, user, instance)
        _save(instance)
        _record(
            layer,
            user,
            LayerChange.Action.UPDATE,
            instance.pk,
            before,
            snapshot(layer, instance),
            [old_geometry, _drawn(instance)],
            (old_commune, _commune(instance)),
        )
    return instance


def delete_feature(layer: Layer, user: permissions.AnyUser, fid: str) -> None:
    """Delete a feature, keeping its last state in the audit trail."""
    with transaction.atomic():
        instance = get_instance(layer, user, fid)
        _check_edit(layer, user, instance)
        if workflow_fields(type(instance)) is not None:
            raise PermissionDenied(
                _("“%(obj)s” do quy trình xử lý quản lý nên không xoá được qua API sửa lớp.") % {"obj": instance}
                + " "
                + _workflow_hint(instance)
            )
        before, old_geometry, old_commune = snapshot(layer, instance), _drawn(instance), _commune(instance)
        pk = instance.pk
        try:
            with transaction.atomic():
                instance.delete()
        except models.ProtectedError:
            raise serializers.ValidationError(
                {"non_field_errors": [_("Đối tượng đang được tham chiếu, không xoá được.")]}
            ) from None
        _record(layer, user, LayerChange.Action.DELETE, pk, before, None, [old_geometry], (old_commune,))
