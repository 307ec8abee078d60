"""CQL2 (OGC API – Features Part 3) to parametrised SQL.

pygeofilter parses CQL2 text and CQL2 JSON into an AST; this module walks the AST itself rather than
using pygeofilter's SQL backend, because that backend pastes literals into the SQL text. Here every
literal is a query parameter, every property must be a queryable (a whitelisted attribute the user may
see, or `geometry`/`id`), and operand types are checked so that `pupils = 'abc'` is a 400, not a 500.

Two gaps of pygeofilter 0.4's CQL2-text grammar are bridged before parsing: the standard function form
of temporal predicates (`T_AFTER(a, b)`) and `INTERVAL('2024-01-01', '..')` with dates or open ends.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import shapely.geometry
from django.utils.translation import gettext as _
from lark.exceptions import LarkError
from pygeofilter import ast, values
from pygeofilter.parsers.cql2_json import parse as parse_cql2_json
from pygeofilter.parsers.cql2_text import parse as parse_cql2_text
from shapely.validation import explain_validity

from gis_ioc.lib import crs_domain
from layers.query import CRS, Column, LayerSource, QueryError, parse_instant

PARAM = "filter"
TEMPORAL_OPS = (
    "T_AFTER",
    "T_BEFORE",
    "T_CONTAINS",
    "T_DISJOINT",
    "T_DURING",
    "T_EQUALS",
    "T_FINISHEDBY",
    "T_FINISHES",
    "T_INTERSECTS",
    "T_MEETS",
    "T_METBY",
    "T_OVERLAPPEDBY",
    "T_OVERLAPS",
    "T_STARTEDBY",
    "T_STARTS",
)
_FUNC_RE = re.compile(r"\b(" + "|".join(TEMPORAL_OPS) + r"|INTERVAL)\s*\(", re.IGNORECASE)
MAX_FILTER_LENGTH = 20_000
# The translator recurses once per AST level, and PostgreSQL's parser too: a chain of 1,900 `+` (7 kB of
# text) is 1,900 levels deep. Real filters nest a handful of levels and hold tens of nodes.
MAX_FILTER_DEPTH = 100
MAX_FILTER_NODES = 2_000


# --- parsing ----------------------------------------------------------------------------------


def _rewrite_text(text: str) -> str:
    """`T_AFTER(a, b)` -> `ioc_t_after(a, b) = TRUE`, `INTERVAL(` -> `ioc_interval(` (outside strings)."""
    out: list[str] = []
    i = 0
    pending_close: list[int] = []  # paren depths at which a temporal call ends
    depth = 0
    while i < len(text):
        ch = text[i]
        if ch == "'":
            j = i + 1
            while j < len(text):
                if text[j] == "'" and j + 1 < len(text) and text[j + 1] == "'":
                    j += 2
                    continue
                if text[j] == "'":
                    break
                j += 1
            out.append(text[i : j + 1])
            i = j + 1
            continue
        match = _FUNC_RE.match(text, i)
        if match and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            name = match.group(1).lower()
            out.append(f"ioc_{name}(")
            depth += 1
            if name != "interval":
                pending_close.append(depth)
            i = match.end()
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            if pending_close and pending_close[-1] == depth:
                pending_close.pop()
                out.append(") = TRUE")
                depth -= 1
                i += 1
                continue
            depth -= 1
        out.append(ch)
        i += 1
    return "".join(out)


def _bbox_to_polygon(node: Any) -> Any:
    """pygeofilter builds Envelope(minx, miny, maxx, maxy) into the wrong slots; give it a Polygon instead."""
    if isinstance(node, dict):
        if set(node) == {"bbox"} and isinstance(node["bbox"], list) and len(node["bbox"]) in (4, 6):
            b = node["bbox"] if len(node["bbox"]) == 4 else [node["bbox"][i] for i in (0, 1, 3, 4)]
            if all(isinstance(n, int | float) and not isinstance(n, bool) for n in b):
                return shapely.geometry.mapping(shapely.geometry.box(*b))
        return {k: _bbox_to_polygon(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_bbox_to_polygon(v) for v in node]
    return node


def _children(node: Any) -> list[Any]:
    """The sub-nodes of an AST node (pygeofilter nodes list their operands in get_sub_nodes)."""
    if isinstance(node, list | tuple):
        return list(node)
    if isinstance(node, ast.Node):
        try:
            return list(node.get_sub_nodes())
        except (TypeError, AttributeError):  # pygeofilter builds e.g. In(sub_nodes=False) from {"op": "in"}
            raise QueryError(
                PARAM, _("Biểu thức CQL2 không hợp lệ: %(e)s") % {"e": _("sai số hoặc kiểu đối số")}
            ) from None
    if isinstance(node, dict) and "coordinates" not in node:  # a geometry's vertices are one operand
        return list(node.values())
    return []


def check_size(node: Any, max_depth: int = MAX_FILTER_DEPTH) -> None:
    """QueryError when the AST (or CQL2 JSON document) nests deeper than `max_depth` or holds more than
    MAX_FILTER_NODES nodes (walked without recursion, so the check itself cannot overflow the stack)."""
    stack = [(node, 1)]
    count = 0
    while stack:
        current, depth = stack.pop()
        count += 1
        if depth > max_depth:
            raise QueryError(
                PARAM,
                _("Biểu thức lọc lồng nhau quá sâu (tối đa %(n)d cấp); hãy tách thành các điều kiện đơn giản hơn.")
                % {"n": MAX_FILTER_DEPTH},
            )
        if count > MAX_FILTER_NODES:
            raise QueryError(
                PARAM,
                _("Biểu thức lọc có quá nhiều thành phần (tối đa %(n)d).") % {"n": MAX_FILTER_NODES},
            )
        stack.extend((child, depth + 1) for child in _children(current))


def parse_filter(text: str, lang: str | None) -> Any:
    """Parse a `filter` in `filter-lang` (cql2-text by default, or cql2-json) into a pygeofilter AST
    no deeper than MAX_FILTER_DEPTH and no larger than MAX_FILTER_NODES."""
    node = _parse_filter(text, lang)
    check_size(node)
    return node


def _parse_filter(text: str, lang: str | None) -> Any:
    if len(text) > MAX_FILTER_LENGTH:
        raise QueryError(PARAM, _("Biểu thức lọc quá dài."))
    lang = (lang or "cql2-text").strip().lower()
    try:
        if lang in ("cql2-text", "cql-text"):  # cql-text: the pre-standard name GDAL 3.6 sends
            return parse_cql2_text(_rewrite_text(text))
        if lang == "cql2-json":
            try:
                document = json.loads(text)
            except ValueError as exc:
                raise QueryError(PARAM, _("CQL2 JSON không hợp lệ: %(e)s") % {"e": exc}) from None
            # Checked before pygeofilter's recursive walk; each CQL2 JSON level is an object and its args list.
            check_size(document, 2 * MAX_FILTER_DEPTH)
            return parse_cql2_json(_bbox_to_polygon(document))
    except LarkError as exc:
        column = getattr(exc, "column", None)
        where = _(" tại cột %(c)s") % {"c": column} if column else ""
        raise QueryError(PARAM, _("Lỗi cú pháp CQL2%(where)s.") % {"where": where}) from None
    except QueryError:
        raise
    except RecursionError:
        raise QueryError(
            PARAM,
            _("Biểu thức lọc lồng nhau quá sâu (tối đa %(n)d cấp); hãy tách thành các điều kiện đơn giản hơn.")
            % {"n": MAX_FILTER_DEPTH},
        ) from None
    except Exception as exc:  # noqa: BLE001 - pygeofilter raises assorted errors on malformed input
        raise QueryError(PARAM, _("Biểu thức CQL2 không hợp lệ: %(e)s") % {"e": str(exc)[:200]}) from None
    raise QueryError("filter-lang", _("filter-lang phải là cql2-text hoặc cql2-json."))


# --- translation ------------------------------------------------------------------------------

_CMP = {
    ast.ComparisonOp.EQ: "=",
    ast.ComparisonOp.NE: "<>",
    ast.ComparisonOp.LT: "<",
    ast.ComparisonOp.LE: "<=",
    ast.ComparisonOp.GT: ">",
    ast.ComparisonOp.GE: ">=",
}
_SPATIAL = {
    ast.SpatialComparisonOp.INTERSECTS: "ST_Intersects",
    ast.SpatialComparisonOp.DISJOINT: "ST_Disjoint",
    ast.SpatialComparisonOp.CONTAINS: "ST_Contains",
    ast.SpatialComparisonOp.WITHIN: "ST_Within",
    ast.SpatialComparisonOp.TOUCHES: "ST_Touches",
    ast.SpatialComparisonOp.CROSSES: "ST_Crosses",
    ast.SpatialComparisonOp.OVERLAPS: "ST_Overlaps",
    ast.SpatialComparisonOp.EQUALS: "ST_Equals",
}
_TEMPORAL_CLASSES = {
    ast.TimeAfter: "T_AFTER",
    ast.TimeBefore: "T_BEFORE",
    ast.TimeDisjoint: "T_DISJOINT",
    ast.TimeEquals: "T_EQUALS",
    ast.TimeDuring: "T_DURING",
    ast.TimeMeets: "T_MEETS",
    ast.TimeMetBy: "T_METBY",
    ast.TimeContains: "T_CONTAINS",
    ast.TimeOverlaps: "T_OVERLAPS",
    ast.TimeOverlappedBy: "T_OVERLAPPEDBY",
    ast.TimeBegins: "T_STARTS",
    ast.TimeBegunBy: "T_STARTEDBY",
    ast.TimeEnds: "T_FINISHES",
    ast.TimeEndedBy: "T_FINISHEDBY",
}
_NUMERIC = {"integer", "number"}
_TEMPORAL = {"date", "datetime"}


class _Translator:
    def __init__(self, source: LayerSource, columns: dict[str, Column], filter_crs: CRS) -> None:
        self.source = source
        self.columns = columns
        self.crs = filter_crs
        self.params: list[Any] = []

    # predicates ---------------------------------------------------------------------------------
    def condition(self, node: Any) -> str:
        if isinstance(node, ast.Not):
            return f"NOT ({self.condition(node.sub_node)})"
        if isinstance(node, ast.And | ast.Or):
            return f"({self.condition(node.lhs)} {node.op.value} {self.condition(node.rhs)})"
        if isinstance(node, ast.Comparison):
            if isinstance(node.lhs, ast.Function) and node.lhs.name.startswith("ioc_t_") and node.rhs is True:
                return self.temporal(node.lhs.name[4:].upper(), *self._two_args(node.lhs))
            return self.comparison(node)
        if isinstance(node, ast.Between):
            lhs, kind = self.scalar(node.lhs)
            low, _k1 = self.scalar(node.low, kind)
            high, _k2 = self.scalar(node.high, kind)
            return f"{lhs} {'NOT ' if node.not_ else ''}BETWEEN {low} AND {high}"
        if isinstance(node, ast.Like):
            return self.like(node)
        if isinstance(node, ast.In):
            lhs, kind = self.scalar(node.lhs)
            options = [self.scalar(o, kind)[0] for o in node.sub_nodes]
            return f"{lhs} {'NOT ' if node.not_ else ''}IN ({', '.join(options)})"
        if isinstance(node, ast.IsNull):
            lhs, _kind = self.scalar(node.lhs)
            return f"{lhs} IS {'NOT ' if node.not_ else ''}NULL"
        if isinstance(node, ast.SpatialComparisonPredicate):
            return self.spatial(_SPATIAL[node.op], node.lhs, node.rhs)
        if isinstance(node, ast.BBox):
            box = shapely.geometry.box(node.minx, node.miny, node.maxx, node.maxy)
            return self.spatial("ST_Intersects", node.lhs, values.Geometry(shapely.geometry.mapping(box)))
        if isinstance(node, ast.TemporalPredicate):
            return self.temporal(_TEMPORAL_CLASSES.get(type(node), "?"), node.lhs, node.rhs)
        if isinstance(node, bool):
            return "TRUE" if node else "FALSE"
        raise QueryError(PARAM, _("Phép toán CQL2 không được hỗ trợ: %(op)s") % {"op": type(node).__name__})

    def _two_args(self, func: ast.Function) -> tuple[Any, Any]:
        if len(func.arguments) != 2:
            raise QueryError(PARAM, _("%(op)s cần đúng hai đối số.") % {"op": func.name[4:].upper()})
        return func.arguments[0], func.arguments[1]

    def comparison(self, node: ast.Comparison) -> str:
        lhs, kind = self.scalar(node.lhs)
        rhs, _kind = self.scalar(node.rhs, kind)
        return f"{lhs} {_CMP[node.op]} {rhs}"

    def like(self, node: ast.Like) -> str:
        lhs, kind = self.scalar(node.lhs)
        if kind not in ("string", None):
            raise QueryError(PARAM, _("LIKE chỉ dùng được với trường văn bản."))
        # CQL2 LIKE wildcards are SQL's own (% and _, backslash escape); pygeofilter's "singlechar"
        # default of "." is not CQL2, so the pattern is passed through unchanged.
        if isinstance(node.pattern, str):
            self.params.append(node.pattern)
            pattern_sql = "%s"
        else:  # ACCENTI('...') / CASEI('...') around the pattern
            pattern_sql, _kind = self.scalar(node.pattern, "string")
        op = "ILIKE" if node.nocase else "LIKE"
        return f"{lhs}::text {'NOT ' if node.not_ else ''}{op} {pattern_sql}"

    # operands -----------------------------------------------------------------------------------
    def attribute(self, name: str) -> Column:
        if name in self.columns:
            return self.columns[name]
        if name == "id":
            return Column("id", self.source.pk, self.source.pk_type)
        raise QueryError(PARAM, _("Thuộc tính '%(p)s' không có trong queryables của lớp này.") % {"p": name[:100]})

    def scalar(self, node: Any, expect: str | None = None) -> tuple[str, str | None]:
        """SQL of a non-geometry operand and its type; literals are checked against `expect`."""
        if isinstance(node, ast.Attribute):
            if node.name in ("geometry", "geom"):
                raise QueryError(PARAM, _("Hình học chỉ dùng được trong các phép S_*."))
            column = self.attribute(node.name)
            if expect is not None and not _compatible(column.type, expect):
                raise QueryError(PARAM, _("Kiểu không khớp: '%(p)s' là %(t)s.") % {"p": node.name, "t": column.type})
            return column.sql, column.type
        if isinstance(node, ast.Function):
            name = node.name.lower()
            if name in ("lower", "casei", "accenti", "unaccent") and len(node.arguments) == 1:
                inner, kind = self.scalar(node.arguments[0], "string" if expect is None else expect)
                if kind not in ("string", None):
                    raise QueryError(PARAM, _("CASEI/ACCENTI chỉ dùng được với văn bản."))
                func = "lower" if name in ("lower", "casei") else "unaccent"
                return f"{func}({inner}::text)", "string"
            raise QueryError(PARAM, _("Hàm CQL2 không được hỗ trợ: %(f)s") % {"f": node.name[:60]})
        if isinstance(node, ast.Arithmetic):
            lhs, _k = self.scalar(node.lhs, "number")
            rhs, _k2 = self.scalar(node.rhs, "number")
            return f"({lhs} {node.op.value} {rhs})", "number"
        if isinstance(node, values.Geometry | values.Envelope):
            raise QueryError(PARAM, _("Hình học chỉ dùng được trong các phép S_*."))
        if isinstance(node, values.Interval | list):
            raise QueryError(PARAM, _("Giá trị không hợp lệ ở vị trí này."))
        kind = _literal_type(node)
        if expect is not None and not _compatible(kind, expect):
            raise QueryError(
                PARAM,
                _("Kiểu không khớp: giá trị %(v)s không so sánh được với kiểu %(t)s.")
                % {"v": repr(node)[:60], "t": expect},
            )
        self.params.append(node)
        return "%s", kind

    def geometry(self, node: Any) -> str:
        """A geometry literal in filter-crs, transformed to the storage CRS; invalid ones are a 400."""
        if isinstance(node, ast.Function) and node.name.lower() == "bbox" and len(node.arguments) in (4, 6):
            args = node.arguments if len(node.arguments) == 4 else [node.arguments[i] for i in (0, 1, 3, 4)]
            if not all(isinstance(a, int | float) for a in args) or args[0] > args[2] or args[1] > args[3]:
                raise QueryError(PARAM, _("BBOX không hợp lệ."))
            shape = shapely.geometry.box(*args)
        elif isinstance(node, values.Envelope):
            shape = shapely.geometry.box(node.x1, node.y1, node.x2, node.y2)
        elif isinstance(node, values.Geometry):
            try:
                shape = shapely.geometry.shape(node.geometry)
            except Exception as exc:  # noqa: BLE001 - shapely raises several types on bad coordinates
                raise QueryError(PARAM, _("Hình học không hợp lệ: %(e)s") % {"e": str(exc)[:200]}) from None
        else:
            raise QueryError(PARAM, _("Đối số thứ hai của phép S_* phải là một hình học."))
        if shape.is_empty or not shape.is_valid:
            reason = explain_validity(shape) if not shape.is_empty else "empty"
            raise QueryError(PARAM, _("Hình học không hợp lệ: %(e)s") % {"e": reason})
        if self.crs.lat_first:
            from shapely.ops import transform

            shape = transform(lambda x, y, z=None: (y, x), shape)
        if not crs_domain.within_domain(shape.bounds, self.crs.srid):
            if self.crs.geographic:
                raise QueryError(PARAM, _("Toạ độ hình học nằm ngoài phạm vi kinh/vĩ độ."))
            # Far outside a projected CRS's area PROJ cannot transform the geometry (a database error).
            raise QueryError(
                PARAM,
                _("Toạ độ hình học nằm ngoài phạm vi dùng được của EPSG:%(srid)d (%(range)s).")
                % {"srid": self.crs.srid, "range": crs_domain.describe(self.crs.srid)},
            )
        self.params.extend([shape.wkb, self.crs.srid])
        sql = "ST_SetSRID(ST_GeomFromWKB(%s), %s)"
        if self.crs.srid != self.source.srid:
            sql = f"ST_Transform({sql}, %s)"
            self.params.append(self.source.srid)
        return sql

    def spatial(self, func: str, lhs: Any, rhs: Any) -> str:
        if isinstance(rhs, ast.Attribute) and not isinstance(lhs, ast.Attribute):
            lhs, rhs = rhs, lhs
            func = {"ST_Contains": "ST_Within", "ST_Within": "ST_Contains"}.get(func, func)
        if not (isinstance(lhs, ast.Attribute) and lhs.name in ("geometry", "geom")):
            raise QueryError(PARAM, _("Phép S_* cần thuộc tính 'geometry' và một hình học."))
        if self.source.geom is None:
            raise QueryError(PARAM, _("Lớp này không có hình học."))
        return f"{func}({self.source.geom}, {self.geometry(rhs)})"

    def temporal(self, op: str, lhs: Any, rhs: Any) -> str:
        """Temporal predicates for instant-valued properties against an instant or an interval."""
        if not isinstance(lhs, ast.Attribute):
            lhs, rhs = rhs, lhs
        if not isinstance(lhs, ast.Attribute):
            raise QueryError(PARAM, _("Phép T_* cần một thuộc tính thời gian."))
        column = self.attribute(lhs.name)
        if column.type not in _TEMPORAL:
            raise QueryError(PARAM, _("Kiểu không khớp: '%(p)s' không phải thời gian.") % {"p": lhs.name})
        start, end = self._interval(rhs)
        a = column.sql

        def p(value: Any) -> str:
            self.params.append(value)
            return "%s"

        open_start, open_end = start is None, end is None
        if op == "T_AFTER":
            return "FALSE" if open_end else f"{a} > {p(end)}"
        if op == "T_BEFORE":
            return "FALSE" if open_start else f"{a} < {p(start)}"
        if op == "T_EQUALS":
            if start != end:
                return "FALSE"  # an instant never equals a proper interval
            return f"{a} = {p(start)}"

        def within(low: str, high: str) -> str:
            parts = [f"{a} {low} {p(start)}" if not open_start else "", f"{a} {high} {p(end)}" if not open_end else ""]
            return " AND ".join(x for x in parts if x) or "TRUE"

        if op == "T_INTERSECTS":
            return f"({a} IS NOT NULL AND {within('>=', '<=')})"
        if op == "T_DISJOINT":
            return f"({a} IS NOT NULL AND NOT ({within('>=', '<=')}))"
        if op == "T_DURING":
            return f"({a} IS NOT NULL AND {within('>', '<')})"
        if op in ("T_MEETS", "T_STARTS"):
            return "FALSE" if open_start else f"{a} = {p(start)}"
        if op in ("T_METBY", "T_FINISHES"):
            return "FALSE" if open_end else f"{a} = {p(end)}"
        if op in ("T_CONTAINS", "T_OVERLAPS", "T_OVERLAPPEDBY", "T_STARTEDBY", "T_FINISHEDBY"):
            return "FALSE"  # an instant cannot contain or overlap another period
        raise QueryError(PARAM, _("Phép thời gian không được hỗ trợ: %(op)s") % {"op": op})

    def _interval(self, node: Any) -> tuple[Any, Any]:
        if isinstance(node, ast.Function) and node.name == "ioc_interval":
            if len(node.arguments) != 2 or not all(isinstance(a, str) for a in node.arguments):
                raise QueryError(PARAM, _("INTERVAL cần hai chuỗi thời gian."))
            start, end = (parse_instant(a, PARAM) for a in node.arguments)
            return start, end
        if isinstance(node, values.Interval):
            if isinstance(node.start, dt.timedelta) or isinstance(node.end, dt.timedelta):
                raise QueryError(PARAM, _("Khoảng thời gian theo độ dài chưa được hỗ trợ."))
            return node.start, node.end
        if isinstance(node, dt.date):
            return node, node
        if isinstance(node, str):
            instant = parse_instant(node, PARAM)
            return instant, instant
        raise QueryError(PARAM, _("Kiểu không khớp: phép T_* cần thời điểm hoặc khoảng thời gian."))


def _literal_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, dt.datetime):
        return "datetime"
    if isinstance(value, dt.date):
        return "date"
    if isinstance(value, str):
        return "string"
    raise QueryError(PARAM, _("Giá trị không được hỗ trợ: %(v)s") % {"v": repr(value)[:60]})


def _compatible(a: str | None, b: str | None) -> bool:
    if a is None or b is None or a == b:
        return True
    return (a in _NUMERIC and b in _NUMERIC) or (a in _TEMPORAL and b in _TEMPORAL)


def cql_to_sql(node: Any, source: LayerSource, columns: dict[str, Column], filter_crs: CRS) -> tuple[str, list[Any]]:
    """Translate a parsed CQL2 filter into (SQL, params) over the user's queryable columns."""
    translator = _Translator(source, columns, filter_crs)
    try:
        sql = translator.condition(node)
    except (TypeError, AttributeError, KeyError, IndexError):
        # The AST is the request's own: a shape pygeofilter accepted but no CQL2 operator has (an operator
        # with the wrong number or kind of arguments) is the client's error.
        raise QueryError(PARAM, _("Biểu thức CQL2 không hợp lệ: %(e)s") % {"e": _("sai số hoặc kiểu đối số")}) from None
    return sql, translator.params
