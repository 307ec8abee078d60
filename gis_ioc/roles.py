"""The platform's roles and what each may do in the Django admin.

Each role is a Django group of the same name. `ROLE_PERMISSIONS` below is the one declaration of which
domain nouns (models) each role keeps; from it `ensure_role_groups` derives the groups' Django model
permissions (run after every `migrate`, see gis_ioc.apps), and `admin_roles()` derives who gets admin
access (`is_staff`, kept in step with the user's roles by the signals at the end of this module).
What a role may *see* on the map, through the APIs and in exports is decided per layer by the catalog
(gis_ioc.permissions); the admin lists sector records within the user's commune scope as well.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext_lazy as _

LEADER = "leader"
PLANNER = "planner"
FIELD_OFFICER = "field_officer"
GIS_STAFF = "gis_staff"
AGENCY_STAFF = "agency_staff"
ADMINISTRATOR = "administrator"

ROLES = {
    LEADER: _("Lãnh đạo"),
    PLANNER: _("Cán bộ quy hoạch"),
    FIELD_OFFICER: _("Cán bộ hiện trường"),
    GIS_STAFF: _("Cán bộ GIS"),
    AGENCY_STAFF: _("Cán bộ cơ quan chuyên môn"),
    ADMINISTRATOR: _("Quản trị hệ thống"),
}

# --- what each role keeps ------------------------------------------------------------------------
# Django's four model verbs. KEEP = create, edit, remove and list; READ = list and open, read-only.
VIEW, ADD, CHANGE, DELETE = "view", "add", "change", "delete"
KEEP = (VIEW, ADD, CHANGE, DELETE)
READ = (VIEW,)
EVERY_MODEL = "*"

# Every record model of layers/models/sectors.py (one per sector the catalog publishes).
SECTOR_RECORDS = (
    "layers.School",
    "layers.HealthFacility",
    "layers.HouseholdBusiness",
    "layers.LandParcel",
    "layers.PlanningPlan",
    "layers.PlanningZone",
    "layers.Dossier",
    "layers.BudgetRevenue",
    "layers.Indicator",
    "layers.CropArea",
    "layers.Farm",
    "layers.TourismSite",
    "layers.VisitorCount",
)

# The monitoring stations of sensors/ (SensorThings) and their reference data, in the admin.
MONITORING = ("sensors.Thing", "sensors.Location", "sensors.Datastream", "sensors.Sensor", "sensors.ObservedProperty")
# Observations are corrected by the same people who may post them (the catalog's edit roles of `observations`,
# which /sta/ and the CSV upload check): declared here so the model permissions tell the same story.
OBSERVATIONS = ("sensors.Observation",)

# Why these and not others:
# - GIS staff keep the data: the catalog (layers.Layer, whose rows are also the raster layers), every
#   sector record, the administrative units and their populations, saved import mappings, and the
#   history of imports and of feature changes (read-only: they are written by the system). They already
#   decide every layer's visibility and edit roles in the catalog, so giving them every sector record in
#   the admin widens nothing. Users, groups and scopes stay with administrators.
# - Planners keep the planning plans and zones: the catalog's default edit role of both layers.
# - Agency staff keep the records of their agencies' work — household businesses, administrative
#   dossiers, budget revenue — the layers the catalog lets them edit by default (layers/catalog_defaults.py;
#   tests/gis_ioc/test_role_permissions.py checks the two agree). Their petition work is the workflow
#   (the desk: assign, start, resolve, close with a history event each); raw edits of a petition would
#   bypass it, so they get no petition model permission.
# - Leaders and field officers work in the dashboard, the petition desk and the field app, which apply the
#   workflow, the scope and the privacy rules; they edit no records directly, so they have no admin access
#   (a leader's or officer's account is not `is_staff`).
# - Administrators hold every permission (they are also superusers in the demo).
# Everything registered in the admin and listed by no role here (users, groups, user scopes, petitions,
# field reports, agencies, routing rules, deadlines, analyses, alert rules, alerts, webhook endpoints and the
# notification log) is the administrators' alone; leaders define alert rules on /alerts/rules/.
ROLE_PERMISSIONS: dict[str, dict[str, tuple[str, ...]]] = {
    LEADER: {},
    PLANNER: {
        "layers.PlanningPlan": KEEP,
        "layers.PlanningZone": KEEP,
    },
    FIELD_OFFICER: {},
    GIS_STAFF: {
        "layers.Layer": KEEP,
        "layers.LayerChange": READ,
        **dict.fromkeys(SECTOR_RECORDS, KEEP),
        **dict.fromkeys(MONITORING + OBSERVATIONS, KEEP),
        "gis_ioc.AdminUnit": KEEP,
        "gis_ioc.AdminUnitPopulation": KEEP,
        # Reforms arrive as crosswalks (imported, then read-only: a wrong one is replaced, not edited).
        "gis_ioc.UnitSet": KEEP,
        "gis_ioc.Crosswalk": READ + (ADD,),
        "gis_ioc.CrosswalkRow": READ,
        "layers.ImportMapping": KEEP,
        "layers.ImportJob": READ,
    },
    AGENCY_STAFF: {
        "layers.HouseholdBusiness": KEEP,
        "layers.Dossier": KEEP,
        "layers.BudgetRevenue": KEEP,
        # The culture and tourism office keeps the sites and their monthly visitor figures.
        "layers.TourismSite": KEEP,
        "layers.VisitorCount": KEEP,
        # The natural resources and environment office keeps the monitoring stations.
        **dict.fromkeys(MONITORING + OBSERVATIONS, KEEP),
    },
    ADMINISTRATOR: {EVERY_MODEL: KEEP},
}


def check_role_permissions(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """System check: every declared role, model label and verb exists (a typo fails at start, not at migrate)."""
    from django.apps import apps
    from django.core.checks import Error

    errors = []
    for role, nouns in ROLE_PERMISSIONS.items():
        if role not in ROLES:
            errors.append(Error(f"ROLE_PERMISSIONS names an unknown role {role!r}.", id="gis_ioc.E101"))
        for label, verbs in nouns.items():
            known = set(KEEP)
            if label != EVERY_MODEL:
                try:
                    known &= set(apps.get_model(label)._meta.default_permissions)
                except (LookupError, ValueError):
                    errors.append(Error(f"ROLE_PERMISSIONS[{role!r}] names no model {label!r}.", id="gis_ioc.E102"))
            unknown = set(verbs) - known
            if unknown:
                errors.append(
                    Error(f"ROLE_PERMISSIONS[{role!r}][{label!r}]: unknown verbs {sorted(unknown)}.", id="gis_ioc.E103")
                )
    return errors


def admin_roles() -> frozenset[str]:
    """The roles that open the Django admin: those the declaration grants any model permission."""
    return frozenset(role for role, nouns in ROLE_PERMISSIONS.items() if nouns)


def declared_permissions(role: str) -> frozenset[tuple[str, str]]:
    """(model label, verb) pairs the role holds, every model spelled out for administrators."""
    from django.apps import apps

    pairs: set[tuple[str, str]] = set()
    for label, verbs in ROLE_PERMISSIONS.get(role, {}).items():
        # Every model with permissions: what auth's create_permissions covers (not GeoDjango's unmanaged
        # catalog views, whose app has no models module).
        models = (
            [m for m in apps.get_models() if m._meta.app_config.models_module is not None]
            if label == EVERY_MODEL
            else [apps.get_model(label)]
        )
        pairs.update(
            (model._meta.label, verb) for model in models for verb in verbs if verb in model._meta.default_permissions
        )
    return frozenset(pairs)


def ensure_role_groups() -> None:
    """Create the role groups and give each exactly the permissions ROLE_PERMISSIONS declares.

    Idempotent; permissions added by hand to a role group are removed, so the groups always say what this
    module says. Also brings every user's `is_staff` in step with their roles (a role that gains or loses
    admin access reaches its members at the next migrate).
    """
    from django.contrib.auth.models import Group

    wanted = {role: _permission_ids(role) for role in ROLES}
    groups = {g.name: g for g in Group.objects.filter(name__in=ROLES)}
    for name in ROLES:
        if name not in groups:
            groups[name] = Group.objects.create(name=name)
    through = Group.permissions.through
    held: dict[int, set[int]] = {g.pk: set() for g in groups.values()}
    for group_id, permission_id in through.objects.filter(group_id__in=held).values_list("group_id", "permission_id"):
        held[group_id].add(permission_id)
    for name, group in groups.items():
        extra = held[group.pk] - wanted[name]
        missing = wanted[name] - held[group.pk]
        if extra:
            through.objects.filter(group_id=group.pk, permission_id__in=extra).delete()
        if missing:
            through.objects.bulk_create([through(group_id=group.pk, permission_id=pid) for pid in missing])
    sync_staff_flags()


def _permission_ids(role: str) -> set[int]:
    """The ids of the Permission rows of the role's declared (model, verb) pairs."""
    from django.apps import apps
    from django.contrib.auth.models import Permission
    from django.core.exceptions import ImproperlyConfigured

    pairs = declared_permissions(role)
    if not pairs:
        return set()
    keys = {}
    for label, verb in pairs:
        opts = apps.get_model(label)._meta
        keys[(opts.app_label, opts.model_name, f"{verb}_{opts.model_name}")] = (label, verb)
    found = {
        (app_label, model, codename): pk
        for pk, app_label, model, codename in Permission.objects.filter(
            content_type__app_label__in={k[0] for k in keys}
        ).values_list("pk", "content_type__app_label", "content_type__model", "codename")
    }
    absent = sorted(f"{label}:{verb}" for key, (label, verb) in keys.items() if key not in found)
    if absent:
        raise ImproperlyConfigured(
            f"Role {role}: no Django permission for {', '.join(absent)} (run migrate to create them)."
        )
    return {found[key] for key in keys}


# --- is_staff follows the roles --------------------------------------------------------------------
# One mechanism: `is_staff` is derived, never set by hand. A user is staff when superuser or holding a role
# of admin_roles(). It is recomputed when the user's groups change (either side of the relation) and
# whenever the user row is saved, so Django's own admin login, `staff_member_required` and the user list
# all read the same answer. (The alternative, an admin site whose has_permission asks the roles, would
# leave is_staff meaning nothing and need a replaced default admin site and login form.)


def staff_status(user: Any) -> bool:
    """Should this user have admin access (is_staff)? Superusers and members of an admin role do."""
    if user.is_superuser:
        return True
    if user.pk is None:
        return False
    return user.groups.filter(name__in=admin_roles()).exists()


def sync_staff_flags(user_ids: Iterable[int] | None = None) -> None:
    """Write `is_staff` of these users (all when None) from their roles, touching only rows that change."""
    from django.contrib.auth import get_user_model
    from django.db.models import Exists, OuterRef, Q

    user_model = get_user_model()
    users = user_model.objects.all() if user_ids is None else user_model.objects.filter(pk__in=list(user_ids))
    in_admin_role = Exists(
        user_model.groups.through.objects.filter(user_id=OuterRef("pk"), group__name__in=admin_roles())
    )
    entitled = in_admin_role | Q(is_superuser=True)
    users.filter(entitled, is_staff=False).update(is_staff=True)
    users.filter(~entitled, is_staff=True).update(is_staff=False)


def _groups_changed(sender: Any, instance: Any, action: str, reverse: bool, pk_set: set[int] | None, **kw: Any) -> None:
    if reverse:  # group.user_set.add/remove/clear: instance is the group, pk_set the users
        if action == "pre_clear":
            instance._ioc_clearing = list(instance.user_set.values_list("pk", flat=True))
        elif action in ("post_add", "post_remove"):
            sync_staff_flags(pk_set or ())
        elif action == "post_clear":
            sync_staff_flags(getattr(instance, "_ioc_clearing", ()))
        return
    if action in ("post_add", "post_remove", "post_clear"):
        instance.__dict__.pop("_ioc_roles", None)  # the roles cached by gis_ioc.permissions are stale now
        staff = staff_status(instance)
        if staff != instance.is_staff:
            instance.is_staff = staff
            type(instance).objects.filter(pk=instance.pk).update(is_staff=staff)


def _user_saving(sender: Any, instance: Any, raw: bool, update_fields: Any, **kwargs: Any) -> None:
    if raw or (update_fields is not None and "is_staff" not in update_fields):
        return  # fixtures load as written; a last_login update does not touch the flag
    instance.is_staff = staff_status(instance)


def _after_migrate(sender: Any, using: str, **kwargs: Any) -> None:
    # Every app's permissions must exist before the groups get them, whatever the order in which apps
    # receive post_migrate: create them now (idempotent, what auth's own handler does per app).
    from django.apps import apps
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using)
    ensure_role_groups()


def connect_signals(app_config: Any) -> None:
    """Wire the groups and the staff flag to migrate, group changes and user saves (from AppConfig.ready)."""
    from django.contrib.auth import get_user_model
    from django.db.models.signals import m2m_changed, post_migrate, pre_save

    user_model = get_user_model()
    post_migrate.connect(_after_migrate, sender=app_config, dispatch_uid="gis_ioc.roles.after_migrate")
    m2m_changed.connect(_groups_changed, sender=user_model.groups.through, dispatch_uid="gis_ioc.roles.groups")
    pre_save.connect(_user_saving, sender=user_model, dispatch_uid="gis_ioc.roles.staff")
