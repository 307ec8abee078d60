"""Citus: which tables are distributed by commune, which are reference tables, and the schema changes that needs.

`manage.py citus_distribute` runs `distribute()` on a migrated database whose server has the citus extension
(`scripts/ioc-citus`). It is repeatable: every step looks at the catalog first and skips what is done.

Why these choices:
- The big sector tables grow with the province (parcels, petitions, dossiers, businesses, revenue) and
  every statistic groups them by commune, so they are hash-distributed by `commune_code`, all co-located:
  a join or a GROUP BY on commune_code runs inside one shard on one worker.
- What they join to and what is small (admin units, the catalog, plans and zones, schools, health
  facilities, indicators, agencies, routing rules and deadlines — the petition categories' tables —,
  users) becomes a reference table: a copy on every node, so joins with a distributed table run on the
  workers.
- Citus needs the distribution column in every primary key and unique constraint of a distributed table
  and allows foreign keys from a distributed table only to a reference table (or co-located on the
  distribution column). So: primary keys become (id, commune_code); a unique constraint without the column
  becomes unique per commune (see WEAKENED); the foreign keys between distributed tables and from local
  tables to them are dropped — Django enforces those relations itself (its on_delete runs in Python).
- Local tables with a foreign key to a reference table (auth_user_groups, analyses, import jobs …) are
  added to Citus's metadata by Citus itself ("Citus local tables", on the coordinator): nothing to do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db import connections, models

DISTRIBUTION_COLUMN = "commune_code"

# Distributed by commune; the first is the co-location anchor of the others.
DISTRIBUTED = (
    "layers.LandParcel",
    "petitions.Petition",
    "layers.Dossier",
    "layers.HouseholdBusiness",
    "layers.BudgetRevenue",
)

# Replicated to every node. Listed so that a foreign key of a distributed table always points at one.
REFERENCE = (
    "gis_ioc.AdminUnit",
    "gis_ioc.AdminUnitPopulation",
    # A few figures per commune and year, read by correlated sub-queries of the statistics (population is
    # the denominator of the per-capita rates), which Citus cannot run against a distributed table.
    "layers.Indicator",
    "auth.User",
    "layers.Layer",
    "layers.PlanningPlan",
    "layers.PlanningZone",
    "layers.School",
    "layers.HealthFacility",
    "petitions.Agency",
    "petitions.RoutingRule",
    "petitions.CategoryDeadline",
)

# Unique constraints that Citus can only enforce per commune: what each now guarantees.
WEAKENED = {
    "petitions_petition_tracking_code_key": "tracking codes unique per commune (random 8 symbols of 32)",
    "petitions_petition_token_2db47600_uniq": "Open311 tokens unique per commune (32 random hex digits)",
    "layers_householdbusiness_registration_number_key": "registration numbers unique per commune",
}


def table_of(label: str) -> str:
    """The database table of an app_label.Model."""
    return apps.get_model(label)._meta.db_table


@dataclass
class Report:
    """What distribute() changed (or found done), one line each, for the command's output and the docs."""

    lines: list[str] = field(default_factory=list)

    def add(self, text: str) -> None:
        self.lines.append(text)


@dataclass(frozen=True)
class ForeignKey:
    table: str
    name: str
    target: str
    definition: str


def _rows(cursor: Any, sql: str, params: list[Any] | tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    cursor.execute(sql, params)
    return list(cursor.fetchall())


def citus_version(using: str = "default") -> str | None:
    """The citus extension's version in the database, or None when the server does not have it."""
    with connections[using].cursor() as cursor:
        row = _rows(cursor, "SELECT extversion FROM pg_extension WHERE extname = 'citus'")
    return row[0][0] if row else None


def table_kinds(using: str = "default") -> dict[str, str]:
    """Table -> 'distributed' | 'reference' | 'citus local', for every table in Citus's metadata."""
    with connections[using].cursor() as cursor:
        rows = _rows(
            cursor,
            "SELECT logicalrelid::regclass::text, partmethod, repmodel FROM pg_dist_partition ORDER BY 1",
        )
    kinds = {}
    for table, method, repmodel in rows:
        if method == "h":
            kinds[table] = "distributed"
        elif repmodel == "t":
            kinds[table] = "reference"
        else:
            kinds[table] = "citus local"
    return kinds


def distribution_column(table: str, cursor: Any) -> str | None:
    """The column a table is hash-distributed by on Citus; None on a plain PostgreSQL or for other tables.

    Writers that UPDATE … FROM use it: Citus refuses to assign that column (a row cannot change shard)."""
    cursor.execute("SELECT to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL")
    if not cursor.fetchone()[0]:
        return None
    cursor.execute(
        "SELECT column_to_column_name(logicalrelid, partkey) FROM pg_dist_partition "
        "WHERE logicalrelid = to_regclass(%s) AND partmethod = 'h'",
        [table],
    )
    row = cursor.fetchone()
    return row[0] if row else None


def read_reference_tables_locally(cursor: Any) -> None:
    """For the rest of the transaction, read the coordinator's own copies of the reference tables directly.

    For a transaction that creates a plain table and fills it from reference tables: with local execution off
    (scripts/ioc-citus), Citus would read them over a second connection, which cannot see the new table yet
    ("relation … does not exist"). On one PostgreSQL this only sets an unused placeholder setting."""
    cursor.execute("SET LOCAL citus.enable_local_execution TO on")


def _foreign_keys(cursor: Any, tables: list[str]) -> list[ForeignKey]:
    """Foreign keys from or to any of the tables."""
    rows = _rows(
        cursor,
        """SELECT conrelid::regclass::text, conname, confrelid::regclass::text, pg_get_constraintdef(oid)
             FROM pg_constraint
            WHERE contype = 'f' AND (conrelid::regclass::text = ANY(%s) OR confrelid::regclass::text = ANY(%s))
            ORDER BY 1, 2""",
        [tables, tables],
    )
    return [ForeignKey(*row) for row in rows]


def _keys_without_column(cursor: Any, table: str) -> list[tuple[str, str, list[str]]]:
    """(name, 'p' | 'u', columns) of the primary key and unique constraints that lack the distribution column."""
    rows = _rows(
        cursor,
        """SELECT c.conname, c.contype, array_agg(a.attname ORDER BY k.ord)
             FROM pg_constraint c
             CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
            WHERE c.conrelid = %s::regclass AND c.contype IN ('p', 'u')
            GROUP BY c.conname, c.contype""",
        [table],
    )
    return [(name, kind, list(cols)) for name, kind, cols in rows if DISTRIBUTION_COLUMN not in cols]


def _unique_indexes_without_column(cursor: Any, table: str) -> list[str]:
    """Unique indexes that back no constraint and lack the distribution column (Citus refuses those too)."""
    rows = _rows(
        cursor,
        """SELECT i.indexrelid::regclass::text
             FROM pg_index i
            WHERE i.indrelid = %s::regclass AND i.indisunique
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
              AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = i.indrelid
                                AND a.attnum = ANY(i.indkey) AND a.attname = %s)""",
        [table, DISTRIBUTION_COLUMN],
    )
    return [r[0] for r in rows]


def distribute(shard_count: int = 8, using: str = "default", log: Callable[[str], None] | None = None) -> Report:
    """Distribute the sector tables by commune and replicate the reference tables (repeatable).

    Steps, each skipped when the catalog shows it done: drop the foreign keys touching a table still to be
    distributed; make its primary key and unique constraints include commune_code; create_distributed_table
    (co-located with the first); create_reference_table; put back the dropped foreign keys Citus allows
    (distributed -> reference). Each step commits on its own: a run stopped half-way is finished by the next.
    """
    report = Report()

    def note(text: str) -> None:
        report.add(text)
        if log is not None:
            log(text)

    if citus_version(using) is None:
        raise RuntimeError("the citus extension is not installed in this database (scripts/ioc-citus start)")
    distributed = [table_of(label) for label in DISTRIBUTED]
    reference = [table_of(label) for label in REFERENCE]
    kinds = table_kinds(using)
    pending = [t for t in distributed if kinds.get(t) != "distributed"]
    connection = connections[using]
    with connection.cursor() as cursor:
        # scripts/ioc-citus turns local execution off for the application's transactions; Citus's own
        # conversions (copying a table's rows into the coordinator's placement) need it.
        cursor.execute("SET citus.enable_local_execution TO on")
        dropped = _foreign_keys(cursor, pending) if pending else []
        for fk in dropped:
            cursor.execute(f'ALTER TABLE {fk.table} DROP CONSTRAINT "{fk.name}"')
        for table in pending:
            _include_distribution_column(cursor, table, note)
        anchor = distributed[0]
        for table in pending:
            if table == anchor:
                cursor.execute(
                    "SELECT create_distributed_table(%s, %s, shard_count => %s)",
                    [table, DISTRIBUTION_COLUMN, shard_count],
                )
            else:
                cursor.execute(
                    "SELECT create_distributed_table(%s, %s, colocate_with => %s)", [table, DISTRIBUTION_COLUMN, anchor]
                )
            note(f"distributed {table} by {DISTRIBUTION_COLUMN}")
        kinds = table_kinds(using)
        for table in reference:
            if kinds.get(table) != "reference":
                cursor.execute("SELECT create_reference_table(%s)", [table])
                note(f"reference table {table}")
        kinds = table_kinds(using)
        _restore_foreign_keys(cursor, kinds, {(fk.table, fk.definition): fk.name for fk in dropped}, note)
        _reset_sequences(cursor, note)
        # Citus needs the statistics of the shards, not of the now empty coordinator tables.
        for table in pending:
            cursor.execute(f"ANALYZE {table}")
        cursor.execute("RESET citus.enable_local_execution")
    if not report.lines:
        note("nothing to do: already distributed")
    return report


def _include_distribution_column(cursor: Any, table: str, note: Callable[[str], None]) -> None:
    for name, kind, cols in _keys_without_column(cursor, table):
        new_cols = [*cols, DISTRIBUTION_COLUMN]
        quoted = ", ".join(new_cols)
        # Citus refuses a DROP and an ADD CONSTRAINT in one ALTER TABLE: two statements.
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        if kind == "p":
            cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" PRIMARY KEY ({quoted})')
            note(f"primary key of {table}: ({', '.join(cols)}) -> ({quoted})")
        else:
            cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" UNIQUE ({quoted})')
            note(f"unique {table}.{name}: ({', '.join(cols)}) -> ({quoted}): {WEAKENED.get(name, 'per commune')}")
    for index in _unique_indexes_without_column(cursor, table):
        cursor.execute(f"DROP INDEX {index}")
        note(f"dropped unique index {index} of {table} (no {DISTRIBUTION_COLUMN} in it)")


def _model_foreign_keys() -> list[tuple[str, str, str, str]]:
    """(table, column, target table, target column) of every ForeignKey that touches a distributed model."""
    distributed = {apps.get_model(label) for label in DISTRIBUTED}
    out = []
    for model in apps.get_models():
        for f in model._meta.concrete_fields:
            if not isinstance(f, models.ForeignKey) or not getattr(f, "db_constraint", True):
                continue
            target = f.related_model
            if (model in distributed or target in distributed) and isinstance(target, type):
                out.append((model._meta.db_table, f.column, target._meta.db_table, str(f.target_field.column)))
    return out


def _restore_foreign_keys(cursor: Any, kinds: dict[str, str], names: dict[tuple[str, str], str], note: Any) -> None:
    """Every foreign key of a distributed model to a reference table exists; the others are reported."""
    present = {
        (table, cols[0])
        for table, cols in _rows(
            cursor,
            """SELECT conrelid::regclass::text, array_agg(a.attname)
                 FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey)
                WHERE c.contype = 'f' GROUP BY c.oid, conrelid""",
        )
    }
    for table, column, target, target_column in _model_foreign_keys():
        source_kind, target_kind = kinds.get(table, "local"), kinds.get(target, "local")
        if source_kind == "distributed" and target_kind == "reference":
            if (table, column) in present:
                continue
            definition = f"FOREIGN KEY ({column}) REFERENCES {target}({target_column}) DEFERRABLE INITIALLY DEFERRED"
            name = names.get((table, definition)) or f"{table}_{column}_fk"[:63]
            cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
            note(f"foreign key {table}.{column} -> {target}: kept (distributed -> reference)")
        elif (table, column) not in present and any(t == table for t, _d in names):
            note(
                f"foreign key {table}.{column} -> {target}: dropped ({source_kind} -> {target_kind}; Citus allows "
                "only distributed -> reference or keys on the distribution column; Django's on_delete still applies)"
            )


def _reset_sequences(cursor: Any, note: Callable[[str], None]) -> None:
    """Move each id sequence of a table Citus took over past the table's largest id.

    Citus recreates a table it turns into a Citus local or reference table, and its identity sequence
    restarts at 1: the next catalog row, group or content type would collide with the rows migrate wrote."""
    rows = _rows(
        cursor,
        """SELECT t.name, a.attname, pg_get_serial_sequence(t.name, a.attname)
             FROM pg_dist_partition p
             CROSS JOIN LATERAL (SELECT p.logicalrelid::regclass::text AS name) t
             JOIN pg_attribute a ON a.attrelid = p.logicalrelid AND a.attnum > 0 AND NOT a.attisdropped
            WHERE pg_get_serial_sequence(t.name, a.attname) IS NOT NULL""",
    )
    for table, column, sequence in rows:
        # Names from the catalog, not from input.
        cursor.execute(f"SELECT coalesce(max({column}), 0) FROM {table}")  # noqa: S608
        top = cursor.fetchone()[0]
        cursor.execute(f"SELECT last_value, is_called FROM {sequence}")  # noqa: S608
        last, called = cursor.fetchone()
        if top and (last < top or (last == top and not called)):
            cursor.execute("SELECT setval(%s, %s)", [sequence, top])
            note(f"sequence {sequence} moved to {top} (the table was recreated by Citus)")
