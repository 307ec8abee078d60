"""manage.py restore <backup folder or .tar>: put a `manage.py backup` back, database and files, after
checking every artefact against the manifest. Stop the web and the job workers first."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from gis_ioc import backup


class Command(BaseCommand):
    help = "Restore a backup made by `manage.py backup` over this installation's database and data folders."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="a backup folder or .tar archive")
        parser.add_argument("--no-input", "--noinput", action="store_false", dest="interactive")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["path"])
        if not path.exists():
            raise CommandError(f"No backup at {path}.")
        if options["interactive"]:
            answer = input(
                f"This replaces every table of database '{connection.settings_dict['NAME']}' and the data folders "
                f"with the backup {path.name}. Type 'yes' to continue: "
            )
            if answer.strip().lower() != "yes":
                raise CommandError("Restore cancelled.")
        try:
            manifest = backup.restore(path)
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"restored {path.name} (made {manifest['created_at']}): {len(manifest['tables'])} tables, "
            f"{sum(len(r['files']) for r in manifest['roots'].values())} files; counts and checksums match"
        )
