"""The alert centre as a door of the matrix: an alert about a record (an overdue petition or dossier) is
shown to exactly the people who may see that record's layer in its commune — the list API, the detail
API and the page. Each cell raises one alert per row of its layer (in the cell's savepoint, so nothing
stays) and reads back which rows' alerts the persona is shown."""

from __future__ import annotations

import re

from tests.leak_matrix.channels import Cell, Channel, absent
from tests.leak_matrix.observe import Expected, Observed
from tests.leak_matrix.world import ANONYMOUS

MARK = re.compile(r"LMA:([\w-]+):(\d+)")
KINDS = {"petitions": "sla_petition", "dossiers": "sla_dossier"}


def _raise_alerts(cell: Cell) -> list[int]:
    """One alert per row of the cell's layer, named by a marker holding the row id; their ids."""
    from alerts.models import Alert, Rule
    from alerts.rules import layer_slugs

    rule = Rule.objects.create(name=f"lm {cell.slug}", kind=KINDS[cell.slug], recipient_roles=["leader"])
    slugs = layer_slugs(rule)
    alerts = Alert.objects.bulk_create(
        Alert(
            rule=rule, key=f"lm:{row.id}", severity="warning", commune_code=row.scope_commune, layer_slugs=slugs,
            message_vi=f"LMA:{cell.slug}:{row.id}", message_en=f"LMA:{cell.slug}:{row.id}",
        )
        for row in cell.all_rows()
    )  # fmt: skip
    return [a.pk for a in alerts]


class AlertCentre(Channel):
    """/alerts/ (page), /api/v1/alerts/ (list) and /api/v1/alerts/<id>/ (detail with history)."""

    name = "alert-centre"
    only_slugs = frozenset(KINDS)
    routes = ("alerts/", "api/v1/alerts/", "api/v1/alerts/<int:pk>/")
    denial_ok = True  # the door names no layer: 401 to anonymous reveals nothing
    person_only = True  # alerts are for signed-in people, even about a public layer

    def expect(self, cell: Cell) -> Expected:
        if cell.persona.name == ANONYMOUS:
            return Expected(False, denial_ok=True)
        rows = frozenset(r.id for r in cell.visible_rows())
        return Expected(bool(rows), rows, frozenset(), denial_ok=True)

    def fetch(self, cell: Cell) -> Observed:
        ids = _raise_alerts(cell)
        seen: set[str] = set()
        statuses = []
        listed = cell.client.get("/api/v1/alerts/")
        statuses.append(listed.status_code)
        if listed.status_code == 200:
            for feature in listed.json()["features"]:
                seen |= {m.group(2) for m in MARK.finditer(feature["properties"]["message"])}
        page = cell.client.get("/alerts/")
        statuses.append(page.status_code)
        if page.status_code == 200:
            seen |= {m.group(2) for m in MARK.finditer(page.content.decode())}
        for pk in ids:
            one = cell.client.get(f"/api/v1/alerts/{pk}/")
            if one.status_code == 200:
                seen |= {m.group(2) for m in MARK.finditer(one.json()["properties"]["message"])}
        if not seen:
            return absent(max(statuses))
        return Observed(False, 200, frozenset(seen), len(seen))


class AlertNotifications(Channel):
    """The in-app notifications of alerts as the stream delivers them (`live.policy.Audience`): the
    `alert.raised` event `alerts.notify.queue` publishes for the rule's recipients (the persona is the only
    one, by name) and the `alert.changed` of a step, for whoever may see the alert. He must be told of
    exactly the alerts about rows he may see."""

    name = "alert-notifications"
    only_slugs = frozenset(KINDS)
    routes = ("live/events",)
    denial_ok = True
    person_only = True

    def expect(self, cell: Cell) -> Expected:
        if cell.persona.name == ANONYMOUS:
            return Expected(False, denial_ok=True)
        rows = frozenset(r.id for r in cell.visible_rows())
        return Expected(bool(rows), rows, frozenset(), denial_ok=True)

    def fetch(self, cell: Cell) -> Observed:
        if cell.persona.name == ANONYMOUS:
            return absent(cell.client.get("/live/events").status_code, "visitors are refused")
        from alerts import notify
        from alerts.models import Alert, Rule
        from alerts.rules import layer_slugs
        from live.events import bounds, events_after
        from live.policy import Audience

        rule = Rule.objects.create(name=f"lmn {cell.slug}", kind=KINDS[cell.slug], email=False)
        rule.recipient_users.set([cell.user])
        slugs = layer_slugs(rule)
        _low, start = bounds()
        for row in cell.all_rows():
            marker = f"LMA:{cell.slug}:{row.id}"
            alert = Alert.objects.create(
                rule=rule, key=f"lmn:{row.id}", severity="warning", commune_code=row.scope_commune,
                layer_slugs=slugs, message_vi=marker, message_en=marker,
            )  # fmt: skip
            notify.queue(alert)
            notify.changed(alert, cell.user, "acknowledge")  # a step: announced to whoever may see it
        audience = Audience(cell.user).load()
        seen: set[str] = set()
        for event in events_after(start, 100_000):
            view = audience.view(event)
            if view is not None and view["kind"] in (notify.KIND_RAISED, notify.KIND_STEP):
                seen |= {m.group(2) for m in MARK.finditer(view["payload"]["alert"]["message_vi"])}
        if not seen:
            return absent(200, "no alert of this layer reached him")
        return Observed(False, 200, frozenset(seen), len(seen))


ALERT_CHANNELS: list[type[Channel]] = [AlertCentre, AlertNotifications]
