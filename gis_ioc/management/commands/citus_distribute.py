"""manage.py citus_distribute: distribute the sector tables by commune on a Citus coordinator (repeatable)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from gis_ioc import distributed


class Command(BaseCommand):
    help = (
        "On a Citus coordinator (scripts/ioc-citus), after migrate: distribute the big sector tables by "
        "commune_code (co-located), make the small shared tables reference tables, and adapt the keys Citus "
        "needs. Repeatable: what is done is skipped. --show prints how each table is placed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--shard-count", type=int, default=8, help="shards per distributed table (default 8)")
        parser.add_argument("--show", action="store_true", help="only print each table's placement")

    def handle(self, *args: Any, **options: Any) -> None:
        version = distributed.citus_version()
        if version is None:
            raise CommandError(
                "This database has no citus extension: point DATABASE_URL at the Citus coordinator "
                "(scripts/ioc-citus start; scripts/ioc-citus url)."
            )
        if options["shard_count"] < 1:
            raise CommandError("--shard-count must be at least 1")
        if not options["show"]:
            self.stdout.write(f"Citus {version}")
            distributed.distribute(shard_count=options["shard_count"], log=self.stdout.write)
        for table, kind in sorted(distributed.table_kinds().items(), key=lambda kv: (kv[1], kv[0])):
            if kind != "citus local" or options["show"]:
                self.stdout.write(f"  {kind:<12} {table}")
