"""manage.py prepare_demo: everything `make demo` does before serving, in one process.

migrate, load_demo, demo_users and collectstatic each cost a Django start-up (seconds on a busy
machine); run together they keep a second `make demo` with nothing changed well under 30 s.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Migrate, load the demo district and sector data, create the demo accounts, collect static files."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--scale", choices=["district", "province"], default="district", help="see load_demo")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        call_command("migrate", interactive=False, verbosity=0, stdout=self.stdout)
        # Accounts first: the petitions demo step links the agency_staff account to its agencies.
        call_command("demo_users", stdout=self.stdout)
        call_command("load_demo", scale=options["scale"], stdout=self.stdout)
        call_command("collectstatic", interactive=False, verbosity=0, stdout=self.stdout)
        self.stdout.write(f"prepare_demo: {time.monotonic() - started:.1f} s")
