"""The leaders' daily digest: the alerts of the last 24 hours each leader may see, in Vietnamese."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone, translation

from alerts.models import Alert, Delivery, Severity
from gis_ioc import roles

_SEVERITY_ORDER: list[str] = [Severity.CRITICAL, Severity.WARNING, Severity.INFO]


def digest_text(user: Any, until: dt.datetime | None = None) -> str:
    """The digest for one person: counts by severity, the new alerts (most severe first), the open ones."""
    with translation.override("vi"):
        return _digest_text(user, until)


def _digest_text(user: Any, until: dt.datetime | None) -> str:
    until = until or timezone.now()
    since = until - dt.timedelta(days=1)
    visible = Alert.objects.visible_to(user).select_related("rule")
    new = list(visible.filter(raised_at__gte=since, raised_at__lt=until))
    new.sort(key=lambda a: (_SEVERITY_ORDER.index(a.severity), a.raised_at))
    still_open = visible.open().count()
    day = timezone.localtime(until)
    lines = [f"Bản tin cảnh báo ngày {day:%d/%m/%Y}", ""]
    if not new:
        lines.append("Không có cảnh báo mới trong 24 giờ qua.")
    else:
        tally = {s: sum(a.severity == s for a in new) for s in _SEVERITY_ORDER}
        counts = ", ".join(f"{n} {Severity(s).label.lower()}" for s, n in tally.items() if n)
        lines.append(f"{len(new)} cảnh báo mới trong 24 giờ qua ({counts}):")
        lines += [f"- [{a.get_severity_display()}] {a.message_vi}" for a in new]
    centre = f"{settings.IOC_SITE_URL}/alerts/"  # an e-mail needs the site's address (relative if unset)
    lines += ["", f"Cảnh báo chưa xử lý xong: {still_open}.", f"Xem chi tiết tại trung tâm cảnh báo: {centre}"]
    return "\n".join(str(line) for line in lines)


def queue_digests(until: dt.datetime | None = None) -> list[Delivery]:
    """Queue the digest e-mail of every active leader with an address (one Delivery and job each)."""
    from alerts.notify import defer

    leaders = get_user_model().objects.filter(is_active=True, groups__name=roles.LEADER).exclude(email="").distinct()
    day = timezone.localtime(until or timezone.now())
    out = []
    with transaction.atomic():
        for user in leaders.order_by("pk"):
            delivery = Delivery.objects.create(
                channel=Delivery.Channel.EMAIL, recipient=user, address=user.email,
                subject=f"Bản tin cảnh báo ngày {day:%d/%m/%Y}", body=digest_text(user, until),
            )  # fmt: skip
            defer(delivery)
            out.append(delivery)
    return out
