"""manage.py create_api_token USER --name NAME: issue an API token for a service account or a script.

People issue their own at /account/tokens/; this is for accounts nobody signs in with (a server-side
notebook, a scheduled ogr2ogr). The key is printed once: only its digest is stored."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from gis_ioc.models import ApiToken


class Command(BaseCommand):
    help = "Issue a named API token for a user and print its key (shown once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", required=True, help="What the token is for, e.g. 'QGIS GIS office'")

    def handle(self, *args: Any, **options: Any) -> None:
        user = get_user_model().objects.filter(username=options["username"], is_active=True).first()
        if user is None:
            raise CommandError(f"No active user named {options['username']!r}.")
        name = " ".join(options["name"].split())
        if not name or len(name) > ApiToken.NAME_MAX:
            raise CommandError(f"--name must be 1 to {ApiToken.NAME_MAX} characters.")
        token = ApiToken.issue(user, name)
        self.stdout.write(token.key)
