"""The live events table: what changed, where, for whom — read by the stream (live/stream.py) to replay
the events a dropped connection missed."""

from __future__ import annotations

from django.contrib.gis.db import models
from django.contrib.postgres.fields import ArrayField
from django.core.serializers.json import DjangoJSONEncoder
from django.utils.translation import gettext_lazy as _


class LiveEvent(models.Model):
    """One published event. Its id is the SSE event id a browser resumes from (`Last-Event-ID`), so ids
    must become visible in increasing order: `live.events.publish` serialises publishers (see there)."""

    id = models.BigAutoField(primary_key=True)
    at = models.DateTimeField(_("lúc"), auto_now_add=True, db_index=True)  # pruning by age
    kind = models.CharField(_("loại sự kiện"), max_length=60)
    payload = models.JSONField(_("nội dung"), default=dict, encoder=DjangoJSONEncoder)
    # The layers it concerns: a person receives it only if he may see one of them.
    layer_slugs = ArrayField(models.CharField(max_length=80), verbose_name=_("các lớp"))
    # GSO code; null = not tied to one commune (an import, a whole-layer change): only people limited to no
    # commune receive it (scopes fail closed).
    commune_code = models.CharField(_("mã xã"), max_length=10, null=True, blank=True)
    geom = models.GeometryField(_("vị trí"), srid=4326, null=True, blank=True)
    # Named recipients (user ids): when not empty, only these people receive it — on top of the policy
    # above, never instead of it (an alert's notification is for the rule's recipients).
    user_ids = ArrayField(models.BigIntegerField(), verbose_name=_("người nhận"), default=list, blank=True)

    class Meta:
        verbose_name = _("sự kiện trực tiếp")
        verbose_name_plural = _("sự kiện trực tiếp")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.pk} {self.kind}"
