"""manage.py backup: the database (pg_dump custom format), the data folders and MapProxy's configuration,
with a manifest of checksums, into one folder (or one .tar with --archive). See gis_ioc/backup.py and
docs/operations.md (schedule, restore)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from gis_ioc import backup


class Command(BaseCommand):
    help = "Back up the database, the data folders and the MapProxy configuration (with a checksum manifest)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output",
            default=os.environ.get("IOC_BACKUP_DIR") or str(Path(settings.BASE_DIR) / "backups"),
            help="folder receiving the backup (default: $IOC_BACKUP_DIR, else backups/ in the checkout)",
        )
        parser.add_argument("--archive", action="store_true", help="write one .tar instead of a folder")
        parser.add_argument("--keep", type=int, default=0, help="then delete all but the N newest backups there")

    def handle(self, *args: Any, **options: Any) -> str:
        if options["keep"] < 0:
            raise CommandError("--keep must be 0 (keep everything) or more.")
        try:
            path = backup.create(Path(options["output"]), archive=options["archive"])
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from exc
        if options["keep"]:
            for old in backup.prune(Path(options["output"]), options["keep"]):
                self.stderr.write(f"removed old backup: {old.name}")
        return str(path)  # written to stdout by Django: the last line is the backup's path, for scripts
