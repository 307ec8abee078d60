"""Telling people: who receives an alert, and the notifications it queues (in-app, e-mail, webhooks).

`queue(alert)` runs in the transaction that inserted the alert: it publishes the in-app event through
live.events.publish naming the recipients below (delivered on commit to them alone, by the live stream's
policy), writes one Delivery row per e-mail and per webhook endpoint, and defers one procrastinate job per
Delivery. Rows and jobs commit with the
alert or not at all, and live in PostgreSQL, so a restarted worker or database sends them afterwards.

Recipients: people holding one of the rule's roles (limited, when the rule names communes, to people whose
scope includes one of them), plus the people the rule names; each must be able to see the alert
(Alert.objects.visible_to) — a rule cannot send a scoped officer another commune's alert.

Webhook body (JSON, UTF-8; docs/alerts-webhooks.md): {"event": "alert.raised", "alert": {...}} signed with
HMAC-SHA256 of the exact body bytes under the endpoint's secret, in `X-IOC-Signature: sha256=<hex>`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Q
from django.utils import translation

from alerts.models import Alert, Delivery

logger = logging.getLogger(__name__)

KIND_RAISED = "alert.raised"
KIND_ASSIGNED = "alert.assigned"
KIND_STEP = "alert.changed"
SIGNATURE_HEADER = "X-IOC-Signature"


def recipients(alert: Alert) -> list[Any]:
    """The people told of this alert (active, able to see it), in a stable order."""
    from gis_ioc import permissions

    rule = alert.rule
    users = get_user_model().objects.filter(is_active=True)
    chosen = Q(pk__in=rule.recipient_users.values("pk"))
    if rule.recipient_roles:
        chosen |= Q(groups__name__in=rule.recipient_roles)
    people = list(users.filter(chosen).distinct().order_by("pk"))
    named = set(rule.recipient_users.values_list("pk", flat=True))
    out = []
    for user in people:
        if rule.recipient_communes and user.pk not in named:
            scope = permissions.commune_scope(user)
            if scope is not None and not scope & set(rule.recipient_communes):
                continue
        if Alert.objects.filter(pk=alert.pk).visible_to(user).exists():
            out.append(user)
    return out


def payload(alert: Alert) -> dict[str, Any]:
    """The alert as webhooks and in-app events carry it (documented in docs/alerts-webhooks.md)."""
    return {
        "id": alert.pk,
        "rule": {"id": alert.rule_id, "name": alert.rule.name, "kind": alert.rule.kind},
        "severity": alert.severity,
        "status": alert.status,
        "commune_code": alert.commune_code,
        "message_vi": alert.message_vi,
        "message_en": alert.message_en,
        "value": alert.value,
        "location": [alert.geom.x, alert.geom.y] if alert.geom else None,
        "raised_at": alert.raised_at,
        "url": f"{settings.IOC_SITE_URL}/alerts/?alert={alert.pk}",  # relative when IOC_SITE_URL is empty
    }


def body_bytes(data: dict[str, Any]) -> bytes:
    """The exact bytes sent (and signed): compact JSON, UTF-8, Vietnamese left unescaped."""
    return json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":")).encode()


def sign(secret: str, body: bytes) -> str:
    """The signature header's value for a body: sha256=<hex HMAC-SHA256 under the endpoint's secret>."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def queue(alert: Alert) -> list[Delivery]:
    """Publish the in-app event and queue the e-mails and webhooks of a new alert (caller's transaction)."""
    from live import events

    data = payload(alert)
    people = recipients(alert)
    # The in-app notification is for the rule's recipients (named on the event), and the live stream's
    # policy still decides; an alert about unpublished data (no layer) is seen in the centre only.
    if alert.layer_slugs and people:
        events.publish(
            KIND_RAISED, {"alert": data}, layer_slugs=alert.layer_slugs, commune_code=alert.commune_code,
            geometry=alert.geom, user_ids=[user.pk for user in people],
        )  # fmt: skip
    deliveries: list[Delivery] = []
    with translation.override("vi"):  # e-mails are in Vietnamese, whatever language the caller's request had
        subject = f"[{alert.get_severity_display()}] {alert.rule.name}"[:300]
        text_vi = email_text(alert)
    if alert.rule.email:
        for user in people:
            if user.email:
                deliveries.append(
                    Delivery(
                        alert=alert,
                        channel=Delivery.Channel.EMAIL,
                        recipient=user,
                        address=user.email,
                        subject=subject,
                        body=text_vi,
                    )  # fmt: skip
                )
    text = body_bytes({"event": KIND_RAISED, "alert": data}).decode()
    for endpoint in alert.rule.webhooks.filter(active=True).order_by("pk"):
        deliveries.append(
            Delivery(alert=alert, channel=Delivery.Channel.WEBHOOK, endpoint=endpoint, address=endpoint.url, body=text)
        )
    Delivery.objects.bulk_create(deliveries)
    for delivery in deliveries:
        defer(delivery)
    return deliveries


def changed(alert: Alert, actor: Any, action: str) -> None:
    """Announce a step of an alert's handling (acknowledged, assigned, resolved, reopened) to everyone the
    live stream's policy lets see it, so open alert centres show its new status (caller's transaction).
    The note stays in the history: it may be meant for the people handling the alert only."""
    from live import events

    if alert.layer_slugs:
        events.publish(
            KIND_STEP, {"alert": payload(alert), "action": action, "by": actor.get_username()},
            layer_slugs=alert.layer_slugs, commune_code=alert.commune_code, geometry=alert.geom,
        )  # fmt: skip


def assigned(alert: Alert, actor: Any, note: str = "") -> list[Delivery]:
    """Tell the person just given an alert (caller's transaction): an in-app event for him alone (the live
    stream's policy still applies) and an e-mail when he has an address. Nobody is told of giving an alert
    to oneself."""
    from live import events

    assignee = alert.assignee
    if assignee is None or assignee.pk == getattr(actor, "pk", None):
        return []
    by = actor.get_full_name() or actor.get_username()
    if alert.layer_slugs:
        events.publish(
            KIND_ASSIGNED, {"alert": payload(alert), "by": by, "note": note}, layer_slugs=alert.layer_slugs,
            commune_code=alert.commune_code, geometry=alert.geom, user_ids=[assignee.pk],
        )  # fmt: skip
    if not assignee.email:
        return []
    with translation.override("vi"):
        subject = f"[{alert.get_severity_display()}] Giao xử lý: {alert.rule.name}"[:300]
        lines = [f"{by} giao cho anh/chị xử lý cảnh báo sau.", *([f"Ghi chú: {note}"] if note else []), ""]
        body = "\n".join([*lines, email_text(alert)])
    delivery = Delivery.objects.create(
        alert=alert, channel=Delivery.Channel.EMAIL, recipient=assignee, address=assignee.email,
        subject=subject, body=body,
    )  # fmt: skip
    defer(delivery)
    return [delivery]


def defer(delivery: Delivery, delay_seconds: int = 0) -> None:
    """Queue the job sending one delivery (in the caller's transaction: the job exists iff the row does)."""
    from alerts.tasks import deliver

    job = deliver.configure(schedule_in={"seconds": delay_seconds}) if delay_seconds else deliver
    job.defer(delivery_id=delivery.pk)


def email_text(alert: Alert) -> str:
    """The e-mail of one alert, in Vietnamese."""
    lines = [
        alert.message_vi,
        "",
        f"Quy tắc: {alert.rule.name}",
        f"Mức độ: {alert.get_severity_display()}",
        f"Phát sinh lúc: {alert.raised_at:%d/%m/%Y %H:%M}",
        "",
        f"Xem và xử lý tại trung tâm cảnh báo: {payload(alert)['url']}",
    ]
    return "\n".join(lines)
