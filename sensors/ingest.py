"""Writing monitoring data: SensorThings creates (Things with deep-inserted Locations and Datastreams,
Observations one by one or as a `CreateObservations` dataArray batch) and CSV files.

Rules for every path (one function, `store_observations`, checks and writes them all):
- the writer may edit the layer and the station's commune (`permissions.can_edit_feature`);
- a datastream that does not exist, or that the writer may not see, is refused by row;
- a unit given with a value must be the datastream's unit (`unit` component or CSV column);
- a value outside its observed property's plausible range is refused;
- two rows of one batch for the same datastream and time are refused; a row already stored for that
  datastream and time with the same result is not written again (idempotent), with another result it is a
  conflict;
- any refused row refuses the whole batch: nothing is half-written. Every write calls the one change signal.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from typing import Any

from django.contrib.gis.geos import GEOSException, GEOSGeometry, Point
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from gis_ioc import permissions
from sensors import sta
from sensors.models import Datastream, Location, Observation, ObservedProperty, Sensor, Thing

MAX_BATCH = 50_000
CSV_COLUMNS = ("datastream", "phenomenon_time", "result")


class Refused(ValueError):
    """A write that cannot be made; `status` is the HTTP status (400, 403, 404, 409)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _layer(slug: str) -> Any:
    from layers.models import Layer

    return Layer.objects.filter(slug=slug).first()


def _may_write(user: Any, commune_code: str | None) -> None:
    for slug in (sta.STATIONS_LAYER, sta.OBSERVATIONS_LAYER):
        layer = _layer(slug)
        if layer is None or not permissions.can_edit_feature(user, layer, commune_code):
            raise Refused(_("Tài khoản này không được ghi dữ liệu quan trắc của trạm này."), 403)


def _record_change(*models: Any) -> None:
    from layers.models import Layer

    for model in models:
        Layer.objects.record_change(model)


# --- observations -------------------------------------------------------------------------------------------
@dataclass
class Row:
    """One observation to store, as received (`where` names it in messages: "dòng 3", "phần tử 12")."""

    where: str
    datastream: Any
    time: Any
    result: Any
    unit: str | None = None


def _time(value: Any, where: str) -> dt.datetime:
    parsed = parse_datetime(str(value)) if value not in (None, "") else None
    if parsed is None:
        raise Refused(
            _("%(where)s: thời điểm “%(value)s” không đúng dạng ISO 8601 (vd. 2025-06-01T07:00:00+07:00).")
            % {"where": where, "value": value}
        )
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)  # local time of the district (Asia/Ho_Chi_Minh)
    if parsed > timezone.now() + dt.timedelta(hours=1):
        raise Refused(_("%(where)s: thời điểm %(value)s ở tương lai.") % {"where": where, "value": value})
    return parsed


_NOT_A_NUMBER = _lazy("%(where)s: kết quả “%(value)s” không phải là số.")


def _number(value: Any, where: str) -> float:
    try:
        number = float(str(value).replace(",", "."))
    except (TypeError, ValueError):
        raise Refused(
            _("%(where)s: kết quả “%(value)s” không phải là số.") % {"where": where, "value": value}
        ) from None
    if number != number or number in (float("inf"), float("-inf")):
        raise Refused(_("%(where)s: kết quả “%(value)s” không phải là số.") % {"where": where, "value": value})
    return number


def store_observations(user: Any, rows: list[Row]) -> tuple[list[Observation], int]:
    """Check every row, then write them in one transaction; returns (stored rows, rows already there)."""
    if not rows:
        raise Refused(_("Không có kết quả quan trắc nào để ghi."))
    if len(rows) > MAX_BATCH:
        raise Refused(_("Một lần ghi tối đa %(n)s kết quả.") % {"n": f"{MAX_BATCH:,}"}, 413)
    ids = set()
    for row in rows:
        try:
            ids.add(int(row.datastream))
        except (TypeError, ValueError):
            raise Refused(
                _("%(where)s: chuỗi quan trắc “%(value)s” không phải là mã số.")
                % {"where": row.where, "value": row.datastream}
            ) from None
    visible_streams = sta.visible(user, "Datastreams").filter(pk__in=ids)
    streams = {d.pk: d for d in visible_streams.select_related("thing", "observed_property")}
    seen: dict[tuple[int, dt.datetime], str] = {}
    checked: list[tuple[Datastream, dt.datetime, float]] = []
    for row in rows:
        stream = streams.get(int(row.datastream))
        if stream is None:
            raise Refused(
                _("%(where)s: không có chuỗi quan trắc số %(id)s.") % {"where": row.where, "id": row.datastream}, 404
            )
        _may_write(user, stream.thing.commune_code)
        when = _time(row.time, row.where)
        value = _number(row.result, row.where)
        if row.unit not in (None, "") and row.unit.strip() != stream.unit_symbol:
            raise Refused(
                _("%(where)s: đơn vị “%(unit)s” không khớp đơn vị của chuỗi “%(name)s” (%(expected)s).")
                % {"where": row.where, "unit": row.unit, "name": stream.name, "expected": stream.unit_symbol}
            )
        prop = stream.observed_property
        if (prop.min_value is not None and value < prop.min_value) or (
            prop.max_value is not None and value > prop.max_value
        ):
            raise Refused(
                _("%(where)s: giá trị %(value)s nằm ngoài khoảng hợp lý của %(name)s (%(low)s – %(high)s).")
                % {
                    "where": row.where,
                    "value": value,
                    "name": prop.name,
                    "low": prop.min_value,
                    "high": prop.max_value,
                }  # fmt: skip
            )
        key = (stream.pk, when)
        if key in seen:
            raise Refused(
                _("%(where)s: trùng thời điểm %(time)s của chuỗi %(id)s với %(other)s.")
                % {"where": row.where, "time": when.isoformat(), "id": stream.pk, "other": seen[key]}
            )
        seen[key] = row.where
        checked.append((stream, when, value))
    existing = {
        (o.datastream_id, o.phenomenon_time): o
        for o in Observation.objects.filter(
            datastream_id__in=ids, phenomenon_time__in=[when for _s, when, _v in checked]
        ).only("id", "datastream_id", "phenomenon_time", "result")
    }
    new, already = [], 0
    for (stream, when, value), row in zip(checked, rows, strict=True):
        old = existing.get((stream.pk, when))
        if old is not None:
            if abs(old.result - value) > 1e-9:
                raise Refused(
                    _("%(where)s: chuỗi %(id)s đã có kết quả %(old)s lúc %(time)s; không ghi đè bằng %(new)s.")
                    % {"where": row.where, "id": stream.pk, "old": old.result, "time": when.isoformat(), "new": value},
                    409,
                )
            already += 1
            continue
        new.append(
            Observation(datastream=stream, phenomenon_time=when, result=value, result_time=timezone.now(),
                        commune_id=stream.thing.commune_id, commune_code=stream.thing.commune_code)
        )  # fmt: skip
    with transaction.atomic():
        Observation.objects.bulk_create(new, batch_size=5000)
        if new:
            _record_change(Observation)
    return new, already


def observation_rows(body: Any, datastream_id: int | None = None, where: str = "") -> list[Row]:
    """One STA Observation (POST /Observations or /Datastreams(n)/Observations) as a Row."""
    if not isinstance(body, dict):
        raise Refused(_("Nội dung phải là một đối tượng JSON Observation."))
    stream = datastream_id
    if stream is None:
        ref = body.get("Datastream")
        stream = ref.get("@iot.id") if isinstance(ref, dict) else None
        if stream is None:
            raise Refused(_('Observation cần “Datastream”: {"@iot.id": mã chuỗi quan trắc}.'))
    unit = (body.get("parameters") or {}).get("unit") if isinstance(body.get("parameters"), dict) else None
    return [Row(where or _("Observation"), stream, body.get("phenomenonTime"), body.get("result"), unit)]


def data_array_rows(body: Any) -> list[Row]:
    """A `CreateObservations` request (SensorThings dataArray extension) as Rows; `unit` is an extra
    component this server checks against the datastream's unit."""
    if not isinstance(body, list):
        raise Refused(_("CreateObservations nhận một danh sách các nhóm {Datastream, components, dataArray}."))
    rows: list[Row] = []
    for g, group in enumerate(body, start=1):
        if not isinstance(group, dict) or not isinstance(group.get("dataArray"), list):
            raise Refused(_("Nhóm %(n)s: thiếu dataArray.") % {"n": g})
        ref = group.get("Datastream") or {}
        stream = ref.get("@iot.id") if isinstance(ref, dict) else None
        components = group.get("components") or []
        if "phenomenonTime" not in components or "result" not in components:
            raise Refused(_("Nhóm %(n)s: components phải có phenomenonTime và result.") % {"n": g})
        where_time, where_result = components.index("phenomenonTime"), components.index("result")
        where_unit = components.index("unit") if "unit" in components else None
        for i, values in enumerate(group["dataArray"], start=1):
            label = _("nhóm %(g)s, phần tử %(i)s") % {"g": g, "i": i}
            if not isinstance(values, list) or len(values) != len(components):
                raise Refused(
                    _("%(where)s: cần %(n)s giá trị theo components.") % {"where": label, "n": len(components)}
                )
            unit = values[where_unit] if where_unit is not None else None
            rows.append(Row(label, stream, values[where_time], values[where_result], unit))
    return rows


def csv_rows(data: bytes, name: str = "") -> list[Row]:
    """A CSV file (columns datastream, phenomenon_time, result, optional unit) as Rows named by line."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Refused(_("Tệp %(name)s không phải UTF-8: hãy lưu lại dạng CSV UTF-8.") % {"name": name}) from None
    reader = csv.DictReader(io.StringIO(text))
    columns = [c.strip() for c in (reader.fieldnames or [])]
    missing = [c for c in CSV_COLUMNS if c not in columns]
    if missing:
        raise Refused(
            _("Tệp %(name)s thiếu cột %(cols)s (cần: %(need)s; tùy chọn: unit).")
            % {"name": name, "cols": ", ".join(missing), "need": ", ".join(CSV_COLUMNS)}
        )
    rows = []
    for line, record in enumerate(reader, start=2):
        record = {(k or "").strip(): (v or "").strip() for k, v in record.items()}
        label = _("%(name)s dòng %(line)s") % {"name": name, "line": line}
        rows.append(Row(label, record["datastream"], record["phenomenon_time"], record["result"], record.get("unit")))
    return rows


# --- things, locations, datastreams ------------------------------------------------------------------------
def _point(value: Any, where: str) -> Point:
    try:
        geom = GEOSGeometry(__import__("json").dumps(value), srid=4326)
    except (GEOSException, ValueError, TypeError):
        geom = None
    if geom is None or geom.geom_type != "Point":
        raise Refused(_("%(where)s: “location” phải là GeoJSON Point [kinh độ, vĩ độ].") % {"where": where})
    return geom  # type: ignore[return-value]


def _full_clean(obj: Any, where: str) -> None:
    try:
        obj.full_clean()
    except ValidationError as exc:
        detail = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
        raise Refused(f"{where}: {detail}") from None


def _related(model: Any, value: Any, build: Any, where: str) -> Any:
    """A referenced entity ({"@iot.id": n}) or one described inline (created)."""
    if isinstance(value, dict) and "@iot.id" in value:
        found = model.objects.filter(pk=value["@iot.id"]).first()
        if found is None:
            what = {"where": where, "what": model._meta.verbose_name, "id": value["@iot.id"]}
            raise Refused(_("%(where)s: không có %(what)s số %(id)s.") % what, 404)
        return found
    if not isinstance(value, dict):
        raise Refused(_("%(where)s: thiếu %(what)s.") % {"where": where, "what": model._meta.verbose_name})
    obj = build(value)
    _full_clean(obj, where)
    obj.save()
    return obj


def _observed_property(value: dict[str, Any]) -> ObservedProperty:
    from django.utils.text import slugify

    name = str(value.get("name", ""))
    code = slugify(value.get("definition", "").rsplit("/", 1)[-1] or name)[:50]
    return ObservedProperty(
        name=name, code=code, definition=value.get("definition", ""), description=value.get("description", "")
    )


def _sensor(value: dict[str, Any]) -> Sensor:
    return Sensor(
        name=value.get("name", ""),
        description=value.get("description", ""),
        encoding_type=value.get("encodingType", "text/html"),
        metadata=str(value.get("metadata", "")),
    )


def create_datastream(user: Any, thing: Thing, body: Any, where: str = "Datastream") -> Datastream:
    if not isinstance(body, dict):
        raise Refused(_("%(where)s phải là một đối tượng JSON.") % {"where": where})
    unit = body.get("unitOfMeasurement")
    if not isinstance(unit, dict) or not unit.get("symbol"):
        raise Refused(_("%(where)s: cần unitOfMeasurement có name và symbol.") % {"where": where})
    stream = Datastream(
        thing=thing, name=body.get("name", ""), description=body.get("description", ""),
        observation_type=body.get("observationType") or Datastream._meta.get_field("observation_type").default,
        unit_name=str(unit.get("name") or unit["symbol"]), unit_symbol=str(unit["symbol"]),
        unit_definition=unit.get("definition", ""),
        sensor=_related(Sensor, body.get("Sensor"), _sensor, f"{where}/Sensor"),
        observed_property=_related(ObservedProperty, body.get("ObservedProperty"), _observed_property,
                                   f"{where}/ObservedProperty"),
    )  # fmt: skip
    _full_clean(stream, where)
    stream.save()
    return stream


def create_location(thing: Thing, body: Any, where: str = "Location") -> Location:
    if not isinstance(body, dict):
        raise Refused(_("%(where)s phải là một đối tượng JSON.") % {"where": where})
    location = Location(thing=thing, name=body.get("name", "") or thing.name, description=body.get("description", ""),
                        encoding_type=body.get("encodingType", "application/geo+json"),
                        geom=_point(body.get("location"), where))  # fmt: skip
    _full_clean(location, where)
    location.save()
    return location


@transaction.atomic
def create_thing(user: Any, body: Any) -> Thing:
    """A station with its Locations (the first is where it is) and Datastreams, all or nothing."""
    if not isinstance(body, dict):
        raise Refused(_("Nội dung phải là một đối tượng JSON Thing."))
    locations = body.get("Locations") or []
    if not isinstance(locations, list) or not locations:
        raise Refused(_("Thing cần ít nhất một Location (GeoJSON Point) để biết trạm thuộc xã nào."))
    first = _point(locations[0].get("location") if isinstance(locations[0], dict) else None, "Locations[1]")
    properties = body.get("properties") or {}
    kind = properties.get("kind") if isinstance(properties, dict) else None
    thing = Thing(name=body.get("name", ""), description=body.get("description", ""), kind=kind or "nuoc",
                  properties=properties if isinstance(properties, dict) else {}, geom=first)  # fmt: skip
    _full_clean(thing, "Thing")
    _may_write(user, thing.commune_code)
    thing.save()
    for i, location in enumerate(locations, start=1):
        create_location(thing, location, f"Locations[{i}]")
    for i, stream in enumerate(body.get("Datastreams") or [], start=1):
        create_datastream(user, thing, stream, f"Datastreams[{i}]")
    _record_change(Thing, Observation)
    return thing


def move_thing(user: Any, thing: Thing, location: Location) -> None:
    """A new Location is where the station now is: its geometry and commune follow."""
    _may_write(user, thing.commune_code)
    thing.geom = location.geom
    thing.commune = None
    _full_clean(thing, "Thing")
    _may_write(user, thing.commune_code)
    thing.save()
    _record_change(Thing)
