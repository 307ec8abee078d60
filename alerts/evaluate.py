"""Evaluating rules: each kind lists the subjects for which it holds now, and each becomes an alert once.

    evaluate_rules(today=None) -> list[Alert]   (the new alerts only)

"Once" is the database's promise, not this module's: an alert's key names its subject and period or event
(`threshold:<commune>:<period start>`, `anomaly:<commune>:<series>:<month>`, `sla_petition:<id>:<due>`,
`sla_dossier:<id>:<due>`, `near_place:<petition id>`), and (rule, key) is unique; the insert is
`ON CONFLICT DO NOTHING`, so the scheduled run, a run after a data change and a second worker evaluating
the same data raise each alert exactly once. A new alert's notifications are queued in the same
transaction (alerts/notify.py), so they are sent exactly when the alert exists.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.contrib.gis.geos import Point
from django.db import connection, transaction
from django.utils import timezone

from alerts import rules as rule_rules
from alerts.models import COMPARE, Alert, Operator, Rule

logger = logging.getLogger(__name__)


@dataclass
class Finding:
    """One subject for which a rule holds: what becomes an alert."""

    key: str
    commune_code: str | None
    message_vi: str
    message_en: str
    value: float | None = None
    geom: Point | None = None
    link: str = ""
    statistic: str | None = None  # the statistic behind it (anomalies: the series'), for its layers


def evaluate_rules(today: dt.date | None = None, rules: list[Rule] | None = None) -> list[Alert]:
    """Evaluate every active rule (or `rules`) against the data as it is now; return the alerts raised."""
    today = today or timezone.localdate()
    raised: list[Alert] = []
    for rule in rules if rules is not None else Rule.objects.filter(active=True).order_by("pk"):
        try:
            raised += evaluate_rule(rule, today)
        except Exception:  # noqa: BLE001 - one broken rule (a statistic removed since) must not stop the others
            logger.exception("alert rule %s not evaluated", rule.pk)
    return raised


def evaluate_rule(rule: Rule, today: dt.date) -> list[Alert]:
    """Raise the alerts of one rule that are not raised yet."""
    finders = {
        "threshold": _threshold,
        "anomaly": _anomaly,
        "sla_petition": _sla_petitions,
        "sla_dossier": _sla_dossiers,
        "near_place": _near_place,
    }
    slugs: dict[str | None, list[str]] = {}
    new: list[Alert] = []
    for finding in finders[rule.kind](rule, today):
        if rule.communes and finding.commune_code not in rule.communes:
            continue
        if finding.statistic not in slugs:
            slugs[finding.statistic] = rule_rules.layer_slugs(rule, finding.statistic)
        alert = _raise_once(rule, finding, slugs[finding.statistic])
        if alert is not None:
            new.append(alert)
    return new


def _raise_once(rule: Rule, f: Finding, slugs: list[str]) -> Alert | None:
    """Insert the alert unless (rule, key) exists; queue its notifications in the same transaction."""
    from alerts import notify

    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO alerts_alert (rule_id, key, severity, commune_code, geom, layer_slugs, message_vi, "
                "message_en, value, link, status, raised_at) VALUES (%s, %s, %s, %s, "
                "ST_GeomFromEWKT(%s), %s, %s, %s, %s, %s, 'open', now()) "
                "ON CONFLICT ON CONSTRAINT alert_once_per_rule_key DO NOTHING RETURNING id",
                [
                    rule.pk, f.key[:200], rule.severity, f.commune_code, f.geom.ewkt if f.geom else None, slugs,
                    f.message_vi, f.message_en, f.value, f.link,
                ],
            )  # fmt: skip
            row = cursor.fetchone()
        if row is None:
            return None
        alert = Alert.objects.select_related("rule").get(pk=row[0])
        notify.queue(alert)
    return alert


# --- the kinds ---------------------------------------------------------------------------------------------
def _names() -> dict[str, str]:
    from gis_ioc.models import AdminUnit

    return dict(AdminUnit.objects.filter(level="commune").values_list("code", "name"))


def _period_start(today: dt.date, interval: str) -> dt.date:
    from layers import statistics

    return statistics.periods(today, today, interval)[0][0]


def judged_period(today: dt.date, interval: str, operator: str) -> tuple[dt.date, dt.date]:
    """The days a threshold is judged on: the current period so far when it watches for a value rising
    past it (> or ≥: it fires the day it is crossed), but the last complete period when it watches for a
    value falling short (< or ≤): every period starts near zero, so judging one that has just begun would
    raise a false alert at each period's start."""
    start = _period_start(today, interval)
    if operator in (Operator.LT, Operator.LE):
        end = start - dt.timedelta(days=1)
        return _period_start(end, interval), end
    return start, today


def _threshold(rule: Rule, today: dt.date) -> Iterator[Finding]:
    from layers import statistics

    stat = statistics.STATISTICS[rule.statistic]
    start, end = judged_period(today, rule.period, rule.operator)
    values = statistics.commune_values(rule.statistic, start, end, rule.communes or None)
    names = _names()
    compare = COMPARE[rule.operator]
    symbol = dict(Operator.choices)[rule.operator]
    for code, value in sorted(values.items()):
        if value is None or not compare(float(value), float(rule.value or 0)):
            continue
        name = names.get(code, code)
        yield Finding(
            key=f"threshold:{code}:{start.isoformat()}",
            commune_code=code,
            value=value,
            message_vi=(
                f"{name}: {stat.title_vi.lower()} từ {start:%d/%m/%Y} đến {end:%d/%m/%Y} là {value:g} "
                f"{stat.unit} ({symbol} ngưỡng {rule.value:g})."
            ),
            message_en=(
                f"{name}: {stat.title_en.lower()} from {start:%Y-%m-%d} to {end:%Y-%m-%d} is {value:g} "
                f"{stat.unit_en} ({symbol} threshold {rule.value:g})."
            ),
        )


def _anomaly(rule: Rule, today: dt.date) -> Iterator[Finding]:
    from analysis.alerts import current_alerts
    from analysis.trends import SERIES, latest_month

    for row in current_alerts(rule.communes or None, month=latest_month(today)):
        yield Finding(
            key=f"anomaly:{row['commune_code']}:{row['series']}:{row['month']}",
            commune_code=row["commune_code"],
            value=row["value"],
            message_vi=row["message_vi"],
            message_en=row["message_en"],
            statistic=SERIES[row["series"]].statistic,
        )


def _sla_petitions(rule: Rule, today: dt.date) -> Iterator[Finding]:
    from petitions.models import Petition

    qs = Petition.objects.overdue().only("pk", "tracking_code", "commune_code", "due_at", "geom", "category")
    if rule.category:
        qs = qs.filter(category=rule.category)
    for p in qs.order_by("due_at"):
        yield Finding(
            key=f"sla_petition:{p.pk}:{p.due_at:%Y%m%d%H%M}",
            commune_code=p.commune_code or None,
            geom=p.geom,
            message_vi=f"Phản ánh {p.tracking_code} quá hạn xử lý (hạn {timezone.localtime(p.due_at):%d/%m/%Y %H:%M}).",
            message_en=f"Petition {p.tracking_code} is overdue (due {timezone.localtime(p.due_at):%Y-%m-%d %H:%M}).",
            link=p.workflow_url() if hasattr(p, "workflow_url") else "",
        )


def _sla_dossiers(rule: Rule, today: dt.date) -> Iterator[Finding]:
    from layers.models import Dossier

    qs = Dossier.objects.filter(
        status__in=[Dossier.Status.RECEIVED, Dossier.Status.PROCESSING], due_date__lt=today
    ).only("pk", "procedure_name", "commune_code", "due_date")
    for d in qs.order_by("due_date", "pk"):
        yield Finding(
            key=f"sla_dossier:{d.pk}:{d.due_date:%Y%m%d}",
            commune_code=d.commune_code or None,
            message_vi=f"Hồ sơ “{d.procedure_name}” (số {d.pk}) quá hạn trả kết quả (hẹn {d.due_date:%d/%m/%Y}).",
            message_en=f"Dossier “{d.procedure_name}” (no. {d.pk}) is past its due date ({d.due_date:%Y-%m-%d}).",
        )


def _near_place(rule: Rule, today: dt.date) -> Iterator[Finding]:
    from petitions.models import Petition

    # Petitions received since the rule exists: a rule about new petitions does not replay the archive.
    # Distance in metres on geography; only the new petitions are measured, so no index is needed.
    assert rule.place is not None  # rule_errors requires it of this kind
    qs = Petition.objects.filter(received_at__gte=rule.created_at).extra(
        where=["ST_DWithin(geom::geography, ST_GeomFromEWKT(%s)::geography, %s)"],
        params=[rule.place.ewkt, rule.radius_m],
    )
    if rule.category:
        qs = qs.filter(category=rule.category)
    for p in qs.only("pk", "tracking_code", "commune_code", "geom", "category").order_by("pk"):
        yield Finding(
            key=f"near_place:{p.pk}",
            commune_code=p.commune_code or None,
            geom=p.geom,
            message_vi=(
                f"Phản ánh mới {p.tracking_code} ({p.get_category_display()}) trong bán kính "
                f"{rule.radius_m:g} m quanh địa điểm của quy tắc “{rule.name}”."
            ),
            message_en=(
                f"New petition {p.tracking_code} ({p.category}) within {rule.radius_m:g} m of the place of "
                f"rule “{rule.name}”."
            ),
        )


def any_rules() -> Any:
    """Is there an active rule at all? (a data change with no rule queues no job)"""
    return Rule.objects.filter(active=True).exists()
