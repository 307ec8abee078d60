"""The workflow: who may take which step, history, merging duplicates, deadlines, rating, escalations."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from gis_ioc import roles
from petitions import workflow
from petitions.models import CategoryDeadline, Petition, PetitionReporter, RoutingRule, Status
from tests.conftest import make_user
from tests.petitions.conftest import inside, metres_east, new_petition, set_status

# (action, status before, persona) -> allowed. Personas: leader, field_officer, member (agency staff of
# the assigned agency), outsider (agency staff of another agency), planner, gis_staff, anonymous,
# scoped (field officer limited to other communes), admin.
PERSONAS = ["leader", "field_officer", "member", "outsider", "planner", "gis_staff", "anonymous", "scoped", "admin"]
MATRIX = {
    ("verify", Status.RECEIVED): {"leader", "field_officer", "admin"},
    ("reject", Status.RECEIVED): {"leader", "field_officer", "admin"},
    ("assign", Status.VERIFIED): {"leader", "admin"},
    ("reassign", Status.ASSIGNED): {"leader", "admin"},
    ("start", Status.ASSIGNED): {"member", "admin"},
    ("resolve", Status.IN_PROGRESS): {"member", "admin"},
    ("close", Status.RESOLVED): {"leader", "member", "admin"},
    ("reopen", Status.CLOSED): {"leader", "admin"},
}


@pytest.fixture
def personas(district, agency, agency_member, outsider_staff):
    return {
        "leader": make_user("lead", roles.LEADER),
        "field_officer": make_user("fo", roles.FIELD_OFFICER),
        "member": agency_member,
        "outsider": outsider_staff,
        "planner": make_user("plan", roles.PLANNER),
        "gis_staff": make_user("gis", roles.GIS_STAFF),
        "anonymous": AnonymousUser(),
        # Thạnh Mỹ (24931) is where the petitions are; this officer only covers Đạ Ròn and Ka Đô.
        "scoped": make_user("scoped", roles.FIELD_OFFICER, communes=["24937", "24928"]),
        "admin": make_user("adm", roles.ADMINISTRATOR),
    }


@pytest.mark.parametrize(("action", "status"), list(MATRIX))
def test_only_the_entitled_roles_take_each_step(personas, agency, other_agency, action, status):
    for persona in PERSONAS:
        petition = set_status(new_petition(), status, agency=agency if status != Status.VERIFIED else None)
        kwargs = {"agency": other_agency} if action in ("assign", "reassign") else {}
        allowed = persona in MATRIX[(action, status)]
        if allowed:
            updated = workflow.transition(petition.pk, action, personas[persona], "ghi chú kiểm tra", **kwargs)
            assert updated.status == workflow.STEPS[action].target or action == "reopen"
            assert updated.events.filter(action=action).count() == 1
        else:
            with pytest.raises(workflow.NotAllowed):
                workflow.transition(petition.pk, action, personas[persona], "ghi chú kiểm tra", **kwargs)
            petition.refresh_from_db()
            assert petition.status == status, f"{persona} changed the status with {action}"
            assert not petition.events.filter(action=action).exists()


def test_every_step_records_who_when_and_the_note(personas, agency):
    petition = new_petition()
    leader, officer, member = personas["leader"], personas["field_officer"], personas["member"]
    workflow.transition(petition.pk, "verify", officer, "Đã đến hiện trường, đúng phản ánh")
    workflow.transition(petition.pk, "assign", leader, "", agency=agency)
    workflow.transition(petition.pk, "start", member)
    workflow.transition(petition.pk, "resolve", member, "Đã thu gom rác, xử phạt người vi phạm")
    petition = workflow.transition(petition.pk, "close", leader, "Kết thúc")
    events = list(petition.events.order_by("at", "id"))
    assert [e.action for e in events] == ["receive", "verify", "assign", "start", "resolve", "close"]
    assert [e.to_status for e in events] == ["received", "verified", "assigned", "in_progress", "resolved", "closed"]
    assert events[1].actor == officer and events[1].note == "Đã đến hiện trường, đúng phản ánh"
    assert events[2].agency == agency
    assert all(e.at <= timezone.now() for e in events)
    assert petition.resolved_at is not None and petition.version == 6
    assert petition.public_note == "Kết thúc"


def test_a_step_from_the_wrong_status_is_a_conflict(personas, agency):
    petition = set_status(new_petition(), Status.RESOLVED, agency=agency)
    with pytest.raises(workflow.Conflict) as err:
        workflow.transition(petition.pk, "resolve", personas["member"], "lần nữa")
    assert "Đã giải quyết" in err.value.message and err.value.status == 409


def test_a_stale_version_is_a_conflict(personas):
    petition = new_petition()
    with pytest.raises(workflow.Conflict):
        workflow.transition(petition.pk, "verify", personas["field_officer"], expected_version=petition.version + 3)


def test_reject_and_resolve_need_a_note(personas, agency):
    petition = new_petition()
    with pytest.raises(workflow.WorkflowError):
        workflow.transition(petition.pk, "reject", personas["leader"], "  ")


def test_assign_follows_the_routing_rule_commune_first(personas, agency, other_agency):
    RoutingRule.objects.create(category="moi_truong", commune_code="", agency=other_agency)
    RoutingRule.objects.create(category="moi_truong", commune_code="24931", agency=agency)
    petition = set_status(new_petition(), Status.VERIFIED)
    assert workflow.transition(petition.pk, "assign", personas["leader"]).agency == agency
    elsewhere = set_status(new_petition(point=inside("24937")), Status.VERIFIED)
    assert workflow.transition(elsewhere.pk, "assign", personas["leader"]).agency == other_agency


def test_assign_without_agency_or_rule_is_refused(personas):
    petition = set_status(new_petition(), Status.VERIFIED)
    with pytest.raises(workflow.WorkflowError) as err:
        workflow.transition(petition.pk, "assign", personas["leader"])
    assert err.value.status == 400


def test_reopening_counts_and_escalates(personas, agency):
    petition = set_status(new_petition(), Status.CLOSED, agency=agency)
    reopened = workflow.transition(petition.pk, "reopen", personas["leader"], "Người dân báo chưa xử lý xong")
    assert reopened.status == Status.ASSIGNED and reopened.reopened_count == 1 and reopened.resolved_at is None
    assert reopened in Petition.objects.escalations()


def test_merging_a_duplicate_keeps_every_reporter(personas):
    first = new_petition(name="Trần Thị B", phone="0900000001")
    second = new_petition(point=metres_east(first.geom, 40), name="Lê Văn C", phone="0900000002")
    merged = workflow.transition(
        second.pk, "mark_duplicate", personas["field_officer"], "Cùng bãi rác", duplicate_of=first
    )
    assert merged.status == Status.DUPLICATE and merged.duplicate_of == first
    reporters = PetitionReporter.objects.filter(petition=first)
    assert {r.phone for r in reporters} == {"0900000001", "0900000002"}
    assert {r.original_petition_id for r in reporters} == {first.pk, second.pk}
    assert first.events.filter(action="merge").exists()
    # Merging the original into its own duplicate is refused (it would orphan the reporters).
    with pytest.raises(workflow.WorkflowError):
        workflow.transition(first.pk, "mark_duplicate", personas["leader"], duplicate_of=second)


def test_deadline_comes_from_the_category_and_overdue_petitions_escalate(personas):
    CategoryDeadline.objects.create(category="an_ninh_trat_tu", days=3)
    petition = new_petition(category="an_ninh_trat_tu")
    assert petition.due_at - petition.received_at == dt.timedelta(days=3)
    assert not petition.is_overdue
    Petition.objects.filter(pk=petition.pk).update(due_at=timezone.now() - dt.timedelta(days=2))
    petition.refresh_from_db()
    assert petition.is_overdue
    assert petition in Petition.objects.overdue() and petition in Petition.objects.escalations()


def _with_receipt(petition: Petition) -> str:
    secret = petition.issue_receipt()
    petition.save(update_fields=["receipt_hash"])
    return secret


def test_citizens_rate_once_and_a_low_rating_escalates(personas, agency):
    petition = set_status(new_petition(), Status.RESOLVED, agency=agency)
    secret = _with_receipt(petition)
    rated = workflow.rate(petition.tracking_code, 1, "Chưa dọn sạch", receipt=secret)
    assert rated.rating == 1 and rated in Petition.objects.escalations()
    with pytest.raises(workflow.Conflict):
        workflow.rate(petition.tracking_code, 5, receipt=secret)


def test_an_open_petition_cannot_be_rated(personas):
    petition = new_petition()
    with pytest.raises(workflow.Conflict):
        workflow.rate(petition.tracking_code, 5, receipt=_with_receipt(petition))
