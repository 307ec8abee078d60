"""Procrastinate jobs of the alerts app, on their own queue (`alerts`), so a slow webhook never delays an
import or an analysis.

- `alerts.evaluate`: evaluate every active rule; deferred after each committed data change (the one change
  signal, see alerts/apps.py) with a queueing lock (one waiting evaluation covers any number of changes),
  and every 5 minutes (time alone makes petitions and dossiers overdue).
- `alerts.deliver`: send one Delivery (an e-mail or a webhook POST): ONE attempt per job. A failed attempt
  defers the next one with exponential back-off (IOC_ALERT_RETRY_SECONDS × 2^(attempt-1)) until
  IOC_ALERT_MAX_ATTEMPTS, then the delivery is marked failed. A job never sleeps or loops, so an endpoint
  that times out holds a worker for one timeout (IOC_WEBHOOK_TIMEOUT_SECONDS) and the other deliveries,
  separate jobs, go on.
- `alerts.digest`: every morning, the leaders' digest in Vietnamese (alerts/digest.py).
"""

from __future__ import annotations

import logging
import urllib.error
import urllib.request

from django.conf import settings
from django.core.mail import send_mail
from django.db import connections, transaction
from django.utils import timezone
from procrastinate.contrib.django import app
from procrastinate.exceptions import AlreadyEnqueued

logger = logging.getLogger(__name__)

QUEUE = "alerts"
EVALUATE_LOCK = "alerts-evaluate"


def _release() -> None:
    # The worker runs sync jobs on reused threads; a connection kept by a thread between jobs pins a
    # backend (and a test database) for nothing. Notifications are few: reconnecting per job is cheap.
    connections.close_all()


@app.task(queue=QUEUE, name="alerts.evaluate", queueing_lock=EVALUATE_LOCK)
def evaluate() -> int:
    """Evaluate every active rule; the number of alerts raised."""
    from alerts.evaluate import evaluate_rules

    try:
        return len(evaluate_rules())
    finally:
        _release()


@app.periodic(cron="*/5 * * * *", periodic_id="evaluate-alert-rules")
@app.task(queue=QUEUE, name="alerts.evaluate_scheduled")
def evaluate_scheduled(timestamp: int) -> int:
    """Every 5 minutes: the same evaluation (deadlines pass without any data changing)."""
    return evaluate()


def request_evaluation() -> None:
    """Queue an evaluation unless one is already waiting (it will read the latest data when it runs)."""
    try:
        evaluate.defer()
    except AlreadyEnqueued:
        pass


@app.task(queue=QUEUE, name="alerts.deliver")
def deliver(delivery_id: int) -> str:
    """One attempt at sending one delivery; its status afterwards."""
    from alerts import notify
    from alerts.models import Delivery

    try:
        with transaction.atomic():
            delivery = (
                Delivery.objects.select_for_update(of=("self",))
                .select_related("endpoint")
                .filter(pk=delivery_id)
                .first()
            )
            if delivery is None or delivery.status != Delivery.Status.PENDING:
                return delivery.status if delivery else "missing"
            delivery.attempts += 1
            error = _send(delivery)
            if not error:
                delivery.status, delivery.sent_at, delivery.last_error = Delivery.Status.SENT, timezone.now(), ""
            else:
                delivery.last_error = error[:2000]
                if delivery.attempts >= settings.IOC_ALERT_MAX_ATTEMPTS:
                    delivery.status = Delivery.Status.FAILED
                else:
                    wait = settings.IOC_ALERT_RETRY_SECONDS * 2 ** (delivery.attempts - 1)
                    notify.defer(delivery, delay_seconds=wait)
            delivery.save(update_fields=["attempts", "status", "sent_at", "last_error"])
            return delivery.status
    finally:
        _release()


def _send(delivery: object) -> str:
    """Send; '' on success, else what went wrong (kept in the delivery log)."""
    from alerts import notify
    from alerts.models import Delivery

    assert isinstance(delivery, Delivery)
    if delivery.channel == Delivery.Channel.EMAIL:
        try:
            send_mail(delivery.subject, delivery.body, None, [delivery.address])
        except Exception as exc:  # noqa: BLE001 - any SMTP failure is a failed attempt, logged
            return f"SMTP: {exc.__class__.__name__}: {exc}"
        return ""
    body = delivery.body.encode()
    request = urllib.request.Request(  # noqa: S310 - the URL is an administrator's http(s) endpoint
        delivery.address,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            notify.SIGNATURE_HEADER: notify.sign(delivery.endpoint.secret if delivery.endpoint else "", body),
            "X-IOC-Delivery": str(delivery.pk),
            "User-Agent": "gis-ioc-alerts/1",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=settings.IOC_WEBHOOK_TIMEOUT_SECONDS) as response:  # noqa: S310
            response.read(1024)
            return ""
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code}"
    except (TimeoutError, OSError) as exc:
        return f"{exc.__class__.__name__}: {exc}"


@app.periodic(cron="30 0 * * *", periodic_id="alerts-leaders-digest")  # 07:30 in Việt Nam (UTC+7)
@app.task(queue=QUEUE, name="alerts.digest")
def digest(timestamp: int) -> int:
    """Every morning: e-mail each leader the digest of the last 24 hours; the number of e-mails queued."""
    from alerts.digest import queue_digests

    try:
        return len(queue_digests())
    finally:
        _release()
