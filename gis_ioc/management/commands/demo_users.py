"""manage.py demo_users: one demo account per role (and an administrator), credentials printed."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandParser

from gis_ioc.models import UserScope
from gis_ioc.roles import ADMINISTRATOR, ROLES, ensure_role_groups

DEMO_PASSWORD_SUFFIX = "-demo-2026"


def demo_password(username: str) -> str:
    return f"{username}{DEMO_PASSWORD_SUFFIX}"


class Command(BaseCommand):
    help = "Create the demo accounts (one per role, plus a commune-limited officer) and print their credentials."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--reset-passwords", action="store_true", help="Set the printed passwords on existing accounts too"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        ensure_role_groups()
        rows: list[tuple[str, str, str]] = []
        reset = options["reset_passwords"]
        for role, label in ROLES.items():
            user, created = User.objects.get_or_create(username=role, defaults={"first_name": str(label)})
            # Hashing a password costs ~0.5 s (PBKDF2); existing accounts keep theirs unless asked, so a
            # second `make demo` stays fast.
            if created or reset:
                user.set_password(demo_password(role))
            user.is_superuser = role == ADMINISTRATOR
            user.save()
            # is_staff follows from the role (gis_ioc.roles.admin_roles): set by the group change or the save.
            user.groups.set([Group.objects.get(name=role)])
            rows.append((role, demo_password(role), str(label)))
        scoped, created = User.objects.get_or_create(
            username="officer_thanhmy", defaults={"first_name": "Cán bộ Thạnh Mỹ"}
        )
        if created or reset:
            scoped.set_password(demo_password("officer_thanhmy"))
            scoped.save()
        scoped.groups.set([Group.objects.get(name="field_officer")])
        UserScope.objects.update_or_create(user=scoped, defaults={"commune_codes": ["24931", "24937"]})
        rows.append(("officer_thanhmy", demo_password("officer_thanhmy"), "Cán bộ hiện trường (Thạnh Mỹ, Đạ Ròn)"))
        self.stdout.write("Tài khoản mẫu / demo accounts:")
        for username, password, description in rows:
            self.stdout.write(f"  {username:<16} {password:<28} {description}")
        if not reset:
            self.stdout.write("  (accounts that existed keep their password; --reset-passwords sets these)")
