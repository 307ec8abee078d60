"""The petitions demo step: agencies, rules, deadlines and a consistent history for the demo petitions."""

from __future__ import annotations

import datetime as dt
import io

from django.db.models import Count, Max

from layers import demo as layers_demo
from layers.demo import records
from petitions import demo
from petitions.models import Agency, CategoryDeadline, Petition, PetitionEvent, PetitionReporter, RoutingRule


def test_the_demo_step_gives_every_demo_petition_a_consistent_history(district):
    communes = [c for c in layers_demo.current_communes() if c.code in ("24931", "24937")]
    created = records.petitions(communes, seed=3, today=dt.date.today(), total=300)
    out = io.StringIO()
    demo.load(out)
    assert "cơ quan" in out.getvalue()
    assert CategoryDeadline.objects.get(category="dat_dai").days == 30
    assert RoutingRule.objects.filter(commune_code="").count() == 10
    assert RoutingRule.objects.filter(category="trat_tu_xay_dung", commune_code="24931").exists()
    assert PetitionReporter.objects.count() == created
    for p in Petition.objects.filter(is_demo=True).annotate(n=Count("events")):
        events = list(PetitionEvent.objects.filter(petition=p).order_by("at", "id"))
        assert events[0].action == "receive"
        assert events[-1].to_status == p.status, (p.status, [e.action for e in events])
        assert [e.at for e in events] == sorted(e.at for e in events)
        if p.status in ("assigned", "in_progress", "resolved", "closed"):
            assert p.agency_id is not None
        assert p.version == len(events)
    before = PetitionEvent.objects.count()
    demo.load(io.StringIO())
    assert PetitionEvent.objects.count() == before, "a second run adds nothing"
    demo.clear()
    assert not PetitionEvent.objects.exists() and not Agency.objects.filter(is_demo=True).exists()
    assert Petition.objects.filter(is_demo=True).aggregate(Max("agency_id"))["agency_id__max"] is None
