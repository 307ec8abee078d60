"""OGC SensorThings API 1.1 read side: entity sets, navigation, query options, JSON encoding.

Every entity set starts from what the user may see (`visible`): the stations the catalog layer
`monitoring-stations` shows him (the one policy: visibility, commune scope), and what hangs off them;
observations also need the `observations` layer. `$filter` is parsed by a real OData parser (odata-query,
no eval) into Django ORM lookups after STA names are mapped onto field names; `$orderby`, `$top`, `$skip`,
`$count`, `$select` and nested `$expand` (`Datastreams($top=1;$orderby=phenomenonTime desc)`, or the path
form `Datastreams/Observations`) follow the specification. Bad options are `QueryError`s: 400 with a reason.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import FieldError, ValidationError
from django.db.models import Model, QuerySet
from django.utils.translation import gettext as _
from odata_query import ast as odata_ast
from odata_query.django.django_q import AstToDjangoQVisitor
from odata_query.exceptions import ODataException
from odata_query.grammar import ODataLexer, ODataParser
from odata_query.visitor import NodeTransformer

from gis_ioc import permissions
from sensors.models import Datastream, Location, Observation, ObservedProperty, Sensor, Thing

STATIONS_LAYER = "monitoring-stations"
OBSERVATIONS_LAYER = "observations"
DEFAULT_TOP = 100
MAX_TOP = 10_000
MAX_FILTER_LENGTH = 2_000
MAX_FILTER_DEPTH = 32
MAX_EXPAND_DEPTH = 3


class QueryError(ValueError):
    """A query option that cannot be answered: the message says which and why (HTTP 400)."""


@dataclass(frozen=True)
class Nav:
    """A navigation property: the Django relation behind it and whether it is one entity or a set."""

    entity_set: str
    relation: str
    many: bool


@dataclass(frozen=True)
class EntitySet:
    name: str
    model: type[Model]
    properties: dict[str, str]  # STA property -> field (or a method of the model for computed ones)
    navs: dict[str, Nav] = field(default_factory=dict)


def _geojson(geom: Any) -> dict[str, Any]:
    return json.loads(geom.geojson)


ENTITY_SETS: dict[str, EntitySet] = {
    s.name: s
    for s in (
        EntitySet(
            "Things", Thing, {"name": "name", "description": "description", "properties": "properties"},
            {"Locations": Nav("Locations", "locations", True), "Datastreams": Nav("Datastreams", "datastreams", True)},
        ),
        EntitySet(
            "Locations", Location,
            {"name": "name", "description": "description", "encodingType": "encoding_type", "location": "geom"},
            {"Things": Nav("Things", "thing", False)},
        ),
        EntitySet(
            "Datastreams", Datastream,
            {"name": "name", "description": "description", "observationType": "observation_type",
             "unitOfMeasurement": "unit_of_measurement"},
            {"Thing": Nav("Things", "thing", False), "Sensor": Nav("Sensors", "sensor", False),
             "ObservedProperty": Nav("ObservedProperties", "observed_property", False),
             "Observations": Nav("Observations", "observations", True)},
        ),
        EntitySet(
            "Observations", Observation,
            {"phenomenonTime": "phenomenon_time", "result": "result", "resultTime": "result_time"},
            {"Datastream": Nav("Datastreams", "datastream", False)},
        ),
        EntitySet(
            "ObservedProperties", ObservedProperty,
            {"name": "name", "definition": "definition", "description": "description"},
            {"Datastreams": Nav("Datastreams", "datastreams", True)},
        ),
        EntitySet(
            "Sensors", Sensor,
            {"name": "name", "description": "description", "encodingType": "encoding_type", "metadata": "metadata"},
            {"Datastreams": Nav("Datastreams", "datastreams", True)},
        ),
    )
}  # fmt: skip
# STA names in filters and orderings -> Django names (one map: the names are the same on every entity).
FIELD_NAMES = {
    "phenomenonTime": "phenomenon_time",
    "resultTime": "result_time",
    "encodingType": "encoding_type",
    "observationType": "observation_type",
    "Thing": "thing",
    "Things": "thing",
    "Datastream": "datastream",
    "Datastreams": "datastreams",
    "Locations": "locations",
    "Sensor": "sensor",
    "ObservedProperty": "observed_property",
    "Observations": "observations",
    "unitOfMeasurement": "unit",
    "symbol": "symbol",
}
# `Datastream/unitOfMeasurement/symbol` is the unit_symbol column.
_UNIT_PARTS = {"name": "unit_name", "symbol": "unit_symbol", "definition": "unit_definition"}


# --- who sees what ----------------------------------------------------------------------------------------
def _layer_visible(user: Any, slug: str) -> bool:
    from layers.models import Layer

    layer = Layer.objects.filter(slug=slug).first()
    return layer is not None and permissions.can_view_layer(user, layer)


def visible(user: Any, entity_set: str) -> QuerySet[Any]:
    """Everything of an entity set this user may see (the catalog layers' visibility and commune scope)."""
    model: Any = ENTITY_SETS[entity_set].model
    if not _layer_visible(user, STATIONS_LAYER):
        return model.objects.none()
    things = permissions.scope_queryset(user, Thing.objects.all())
    if entity_set == "Things":
        return things
    if entity_set in ("Locations", "Datastreams"):
        return model.objects.filter(thing__in=things)
    if entity_set == "Observations":
        if not _layer_visible(user, OBSERVATIONS_LAYER):
            return Observation.objects.none()
        return permissions.scope_queryset(user, Observation.objects.filter(datastream__thing__in=things))
    return model.objects.all()  # observed properties and sensors: reference data of every visible station


# --- query options -----------------------------------------------------------------------------------------
class _StaNames(NodeTransformer):
    """Rewrite STA property names in a parsed filter onto Django field names."""

    def visit_Identifier(self, node: odata_ast.Identifier) -> odata_ast.Identifier:
        return odata_ast.Identifier(FIELD_NAMES.get(node.name, node.name), node.namespace)

    def visit_Attribute(self, node: odata_ast.Attribute) -> odata_ast._Node:
        owner = self.visit(node.owner)
        if isinstance(owner, odata_ast.Identifier | odata_ast.Attribute) and _last(owner) == "unit":
            return _replace_last(owner, _UNIT_PARTS.get(node.attr, node.attr))
        return odata_ast.Attribute(owner, FIELD_NAMES.get(node.attr, node.attr))


def _last(node: odata_ast._Node) -> str:
    return node.name if isinstance(node, odata_ast.Identifier) else node.attr  # type: ignore[attr-defined]


def _replace_last(node: odata_ast._Node, name: str) -> odata_ast._Node:
    if isinstance(node, odata_ast.Identifier):
        return odata_ast.Identifier(name, node.namespace)
    return odata_ast.Attribute(node.owner, name)  # type: ignore[attr-defined]


def apply_filter(qs: QuerySet[Any], expression: str) -> QuerySet[Any]:
    """`$filter`: parsed, names mapped, turned into ORM lookups; anything wrong is a QueryError."""
    if len(expression) > MAX_FILTER_LENGTH:
        raise QueryError(_("$filter dài quá %(n)s ký tự.") % {"n": MAX_FILTER_LENGTH})
    depth = deepest = 0
    for char in expression:  # the parser recurses per level: bound it before parsing
        depth += (char == "(") - (char == ")")
        deepest = max(deepest, depth)
    if deepest > MAX_FILTER_DEPTH:
        raise QueryError(_("$filter lồng quá %(n)s cấp ngoặc.") % {"n": MAX_FILTER_DEPTH})
    try:
        tree = ODataParser().parse(ODataLexer().tokenize(expression))
        tree = _StaNames().visit(tree)
        visitor = AstToDjangoQVisitor(qs.model)
        where = visitor.visit(tree)
        if visitor.queryset_annotations:
            qs = qs.annotate(**visitor.queryset_annotations)
        filtered = qs.filter(where)
        str(filtered.query)  # resolve every name now, so an unknown property is a 400 and not a 500 later
        return filtered
    except (
        ODataException,
        FieldError,
        ValidationError,
        ValueError,
        TypeError,
        RecursionError,
        NotImplementedError,
    ) as exc:
        raise QueryError(_("$filter không hợp lệ: %(why)s") % {"why": _reason(exc)}) from None


def _reason(exc: BaseException) -> str:
    unknown = re.match(r"Cannot resolve keyword '([^']+)'", str(exc))
    if unknown:  # Django lists the model's columns after this: not for the client
        return _("không có thuộc tính “%(name)s”") % {"name": unknown.group(1)}
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]


def apply_orderby(qs: QuerySet[Any], entity: EntitySet, option: str) -> QuerySet[Any]:
    """`$orderby=phenomenonTime desc,id`."""
    keys = []
    for part in option.split(","):
        words = part.split()
        if not words or len(words) > 2 or (len(words) == 2 and words[1].lower() not in ("asc", "desc")):
            raise QueryError(_("$orderby không hợp lệ: “%(part)s”.") % {"part": part.strip()})
        name = words[0]
        column = "id" if name in ("id", "@iot.id") else entity.properties.get(name)
        if column is None or column in ("geom", "unit_of_measurement", "properties"):
            raise QueryError(_("Không sắp xếp được theo “%(name)s”.") % {"name": name})
        keys.append(("-" if len(words) == 2 and words[1].lower() == "desc" else "") + column)
    return qs.order_by(*keys, "id")


def _int_option(options: dict[str, str], name: str, default: int, highest: int) -> int:
    raw = options.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit():
        raise QueryError(_("%(name)s phải là số nguyên không âm.") % {"name": name})
    value = int(raw)
    if value > highest:
        raise QueryError(_("%(name)s tối đa là %(max)s.") % {"name": name, "max": highest})
    return value


def split_top_level(text: str, separator: str) -> list[str]:
    """Split on a separator outside parentheses (`A($top=1;$skip=2),B` -> ['A($top=1;$skip=2)', 'B'])."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                raise QueryError(_("Dấu ngoặc không khớp trong “%(text)s”.") % {"text": text})
        if char == separator and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    if depth:
        raise QueryError(_("Dấu ngoặc không khớp trong “%(text)s”.") % {"text": text})
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def parse_expand(option: str, depth: int = 0) -> dict[str, dict[str, str]]:
    """`$expand` -> {navigation: its own options}; `A/B` is `A($expand=B)`."""
    if depth >= MAX_EXPAND_DEPTH:
        raise QueryError(_("$expand lồng quá %(n)s cấp.") % {"n": MAX_EXPAND_DEPTH})
    out: dict[str, dict[str, str]] = {}
    for item in split_top_level(option, ","):
        slash, paren = item.find("/"), item.find("(")
        if slash != -1 and (paren == -1 or slash < paren):
            # A path: the first navigation expands the rest (whose options stay on the last segment).
            head, tail = item[:slash].strip(), item[slash + 1 :]
            out.setdefault(head, {})
            merged = out[head].get("$expand")
            out[head]["$expand"] = f"{merged},{tail}" if merged else tail
            continue
        name, _paren, rest = item.partition("(")
        inner: dict[str, str] = {}
        if rest:
            if not rest.endswith(")"):
                raise QueryError(_("$expand không hợp lệ: “%(item)s”.") % {"item": item})
            for pair in split_top_level(rest[:-1], ";"):
                key, eq, value = pair.partition("=")
                if not eq or not key.startswith("$"):
                    raise QueryError(_("$expand không hợp lệ: “%(item)s”.") % {"item": item})
                inner[key] = value
        out[name.strip()] = out.get(name.strip(), {}) | inner
    return out


# --- encoding --------------------------------------------------------------------------------------------
@dataclass
class Reader:
    """Reads entity sets for one request: the user, the service root, and the request's options."""

    user: Any
    root: str

    def link(self, entity_set: str, pk: Any) -> str:
        return f"{self.root}/{entity_set}({pk})"

    def collection(
        self, entity_set: str, qs: QuerySet[Any], options: dict[str, str], next_base: str, depth: int = 0
    ) -> dict[str, Any]:
        """A collection response: value, @iot.count when asked, @iot.nextLink when more remain."""
        entity = ENTITY_SETS[entity_set]
        # Options are checked before any row is read: a bad one is refused even on an empty result.
        _selected(entity, options.get("$select"))
        expand = parse_expand(options["$expand"], depth) if options.get("$expand") else {}
        unknown = set(expand) - set(entity.navs)
        if unknown:
            names = ", ".join(sorted(unknown))
            raise QueryError(_("%(set)s không có liên kết %(names)s.") % {"set": entity_set, "names": names})
        if options.get("$filter"):
            qs = apply_filter(qs, options["$filter"])
        qs = apply_orderby(qs, entity, options["$orderby"]) if options.get("$orderby") else qs.order_by("id")
        top = _int_option(options, "$top", DEFAULT_TOP, MAX_TOP)
        skip = _int_option(options, "$skip", 0, 10**9)
        count_asked = options.get("$count", "").lower()
        if count_asked not in ("", "true", "false"):
            raise QueryError(_("$count chỉ nhận true hoặc false."))
        rows = list(qs[skip : skip + top + 1])
        body: dict[str, Any] = {}
        if count_asked == "true":
            body["@iot.count"] = qs.count()
        body["value"] = [self.entity(entity_set, row, options, depth) for row in rows[:top]]
        if len(rows) > top and depth == 0:
            body["@iot.nextLink"] = _with_option(next_base, options, "$skip", str(skip + top))
        return body

    def entity(self, entity_set: str, row: Any, options: dict[str, str], depth: int = 0) -> dict[str, Any]:
        """One entity: @iot.id, @iot.selfLink, its properties ($select), navigation links, expansions."""
        entity = ENTITY_SETS[entity_set]
        selected = _selected(entity, options.get("$select"))
        self_link = self.link(entity_set, row.pk)
        out: dict[str, Any] = {"@iot.id": row.pk, "@iot.selfLink": self_link}
        for prop, attr in entity.properties.items():
            if selected is not None and prop not in selected:
                continue
            value = getattr(row, attr)
            value = value() if callable(value) else value
            if attr == "geom":
                value = _geojson(value)
            elif hasattr(value, "isoformat"):
                value = value.isoformat().replace("+00:00", "Z")
            out[prop] = value
        expand = parse_expand(options["$expand"], depth) if options.get("$expand") else {}
        unknown = set(expand) - set(entity.navs)
        if unknown:
            raise QueryError(
                _("%(set)s không có liên kết %(names)s.") % {"set": entity_set, "names": ", ".join(sorted(unknown))}
            )
        for nav_name, nav in entity.navs.items():
            if selected is not None and nav_name not in selected and nav_name not in expand:
                continue
            out[f"{nav_name}@iot.navigationLink"] = f"{self_link}/{nav_name}"
            if nav_name in expand:
                out[nav_name] = self.expanded(row, nav, expand[nav_name], depth + 1)
        return out

    def expanded(self, row: Any, nav: Nav, options: dict[str, str], depth: int) -> Any:
        """A navigation property of a row, within what the user may see."""
        allowed = visible(self.user, nav.entity_set)
        if nav.many:
            related = getattr(row, nav.relation)
            qs = allowed.filter(pk__in=related.values("pk")) if hasattr(related, "values") else allowed.none()
            return self.collection(nav.entity_set, qs, options, "", depth)["value"]
        target = getattr(row, f"{nav.relation}_id", None)
        target = target if target is not None else getattr(getattr(row, nav.relation), "pk", None)
        one = allowed.filter(pk=target).first()
        return self.entity(nav.entity_set, one, options, depth) if one is not None else None


def _selected(entity: EntitySet, option: str | None) -> set[str] | None:
    if not option:
        return None
    names = {n.strip() for n in option.split(",") if n.strip()}
    known = set(entity.properties) | set(entity.navs) | {"id", "@iot.id", "@iot.selfLink"}
    unknown = names - known
    if unknown:
        raise QueryError(_("$select không có thuộc tính %(names)s.") % {"names": ", ".join(sorted(unknown))})
    return names


def _with_option(base: str, options: dict[str, str], key: str, value: str) -> str:
    from urllib.parse import urlencode

    merged = {k: v for k, v in options.items() if k.startswith("$")} | {key: value}
    return f"{base}?{urlencode(merged)}"


def known_options(query: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The request's query options; an unknown `$option` is a QueryError (a typo must not be ignored)."""
    out: dict[str, str] = {}
    for key, value in query:
        if key.startswith("$"):
            if key not in ("$filter", "$expand", "$top", "$skip", "$orderby", "$count", "$select", "$resultFormat"):
                raise QueryError(_("Không hỗ trợ tùy chọn %(key)s.") % {"key": key})
            out[key] = value
    return out
