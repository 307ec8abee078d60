"""Notifications of a new alert: an in-app live event, e-mails through a real SMTP server, signed webhooks
to real local receivers, sent by a real procrastinate worker with retries; the leaders' digest."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import hashlib
import hmac
import json

import pytest
from django.test import override_settings
from django.utils import translation

from alerts.evaluate import evaluate_rules
from alerts.models import Alert, Delivery, WebhookEndpoint
from tests.alerts.conftest import make_jobs_due, make_rule, run_jobs
from tests.petitions.conftest import inside, new_petition

# The worker reads the jobs through its own connection: the data must be committed.
pytestmark = pytest.mark.django_db(transaction=True)


def _threshold_alert(district, **rule_fields):
    rule = make_rule(
        kind="threshold", statistic="petitions_received", period="month", operator="ge", value=1, **rule_fields
    )
    return rule


def test_a_new_alert_is_published_live_to_its_recipients_only(district, leader, field_officer, scoped_officer):
    from live.events import events_after
    from live.models import LiveEvent
    from live.policy import Audience
    from tests.conftest import make_user

    named_far = make_user("far_named", "field_officer", communes=["24934"])
    rule = _threshold_alert(district, recipient_roles=["leader"])
    rule.recipient_users.set([scoped_officer, named_far])
    new_petition(point=inside("24931"))
    evaluate_rules(rules=[rule])
    event = LiveEvent.objects.filter(kind="alert.raised").get()
    assert event.commune_code == "24931" and event.layer_slugs == ["petitions"]
    assert event.payload["alert"]["message_vi"] == Alert.objects.get().message_vi
    [sent] = [e for e in events_after(0, 100) if e["kind"] == "alert.raised"]

    def told(user) -> bool:
        return Audience(user).load().view(sent) is not None

    # The leader (by role) and the officer named on the rule are told; another officer who may see the
    # petitions of 24931 is not a recipient, and a named officer of another commune may not see it.
    assert told(leader) and told(scoped_officer)
    assert Alert.objects.visible_to(field_officer).exists() and not told(field_officer)
    assert not told(named_far)


def test_the_person_given_an_alert_is_told_in_app_and_by_email(district, smtp_sink, leader, scoped_officer):
    from live.events import events_after
    from live.policy import Audience
    from tests.dashboard.conftest import client_for

    scoped_officer.email = "canbo@example.org"
    scoped_officer.save()
    rule = _threshold_alert(district, email=False)  # the leaders are told of the alert itself, in-app only
    new_petition(point=inside("24931"))
    [alert] = evaluate_rules(rules=[rule])
    answer = client_for(leader).post(
        f"/alerts/{alert.pk}/act/",
        {"action": "assign", "assignee": scoped_officer.username, "note": "Kiểm tra ngay trong ngày"},
    )
    assert answer.status_code == 302
    [event] = [e for e in events_after(0, 100) if e["kind"] == "alert.assigned"]
    told = Audience(scoped_officer).load().view(event)
    assert told is not None and told["payload"]["note"] == "Kiểm tra ngay trong ngày"
    assert told["payload"]["alert"]["id"] == alert.pk
    assert Audience(leader).load().view(event) is None  # the one who assigned it is not told of it
    run_jobs()
    [mail] = [email.message_from_bytes(m.content, policy=email.policy.default) for m in smtp_sink]
    assert mail["To"] == "canbo@example.org" and "Giao xử lý" in mail["Subject"]
    text = mail.get_content()
    assert "giao cho anh/chị xử lý" in text and "Ghi chú: Kiểm tra ngay trong ngày" in text
    assert alert.message_vi in text


def test_an_alert_is_emailed_to_its_recipients_through_smtp(district, smtp_sink, scoped_officer):
    from tests.conftest import make_user

    leader = make_user("lanhdao", "leader")
    leader.email = "lanhdao@example.vn"
    leader.save()
    scoped_officer.email = "canbo@example.org"
    scoped_officer.save()
    far = make_user("far_officer", "field_officer", communes=["24934"])
    far.email = "xa@example.org"
    far.save()
    rule = _threshold_alert(district, recipient_roles=["leader", "field_officer"])
    new_petition(point=inside("24931"))
    with translation.override("en"):  # raised while serving someone in English: the e-mail stays Vietnamese
        evaluate_rules(rules=[rule])
    run_jobs()
    received = sorted(tuple(m.rcpt_tos) for m in smtp_sink)
    # The officer of another commune is not told of an alert he may not see.
    assert received == [("canbo@example.org",), ("lanhdao@example.vn",)]
    message = email.message_from_bytes(smtp_sink[0].content, policy=email.policy.default)
    assert message["Subject"] == "[Cảnh báo] Quy tắc threshold"
    assert Alert.objects.get().message_vi in message.get_content()
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}


def test_a_webhook_is_signed_with_the_endpoint_secret(district, receivers):
    receiver = receivers(status=200)
    endpoint = WebhookEndpoint.objects.create(name="Zalo OA", url=receiver.url)
    rule = _threshold_alert(district, email=False)
    rule.webhooks.add(endpoint)
    new_petition(point=inside("24931"))
    evaluate_rules(rules=[rule])
    run_jobs()
    [(headers, body)] = receiver.received
    expected = "sha256=" + hmac.new(endpoint.secret.encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-IOC-Signature"], expected)
    data = json.loads(body)
    assert data["event"] == "alert.raised" and data["alert"]["commune_code"] == "24931"
    assert data["alert"]["message_vi"] == Alert.objects.get().message_vi
    assert Delivery.objects.get().status == "sent"


@override_settings(IOC_ALERT_MAX_ATTEMPTS=3)
def test_an_endpoint_answering_500_is_retried_then_marked_failed(district, receivers):
    receiver = receivers(status=500)
    rule = _threshold_alert(district, email=False)
    rule.webhooks.add(WebhookEndpoint.objects.create(name="SMS", url=receiver.url))
    new_petition(point=inside("24931"))
    evaluate_rules(rules=[rule])
    run_jobs()
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("pending", 1, "HTTP 500")
    assert make_jobs_due() == 1  # the retry waits (back-off): bring it due instead of sleeping
    run_jobs()
    assert make_jobs_due() == 1
    run_jobs()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("failed", 3)
    assert len(receiver.received) == 3
    assert make_jobs_due() == 0  # no further attempt


@override_settings(IOC_WEBHOOK_TIMEOUT_SECONDS=1)
def test_an_endpoint_that_times_out_does_not_block_another(district, receivers):
    stuck, fine = receivers(hold=True), receivers(status=204)
    rule = _threshold_alert(district, email=False)
    rule.webhooks.add(
        WebhookEndpoint.objects.create(name="a stuck gateway", url=stuck.url),
        WebhookEndpoint.objects.create(name="a working gateway", url=fine.url),
    )
    new_petition(point=inside("24931"))
    evaluate_rules(rules=[rule])
    run_jobs()
    by_name = {d.endpoint.name: d for d in Delivery.objects.select_related("endpoint")}
    assert by_name["a working gateway"].status == "sent" and len(fine.received) == 1
    assert by_name["a stuck gateway"].status == "pending"
    assert "timed out" in by_name["a stuck gateway"].last_error.lower()


def test_queued_notifications_are_jobs_that_survive_until_a_worker_runs(district, receivers):
    from procrastinate.contrib.django.models import ProcrastinateJob

    receiver = receivers(status=200)
    rule = _threshold_alert(district, email=False)
    rule.webhooks.add(WebhookEndpoint.objects.create(name="later", url=receiver.url))
    new_petition(point=inside("24931"))
    evaluate_rules(rules=[rule])
    # No worker yet (one restarting): the notification waits in PostgreSQL, not in a process's memory.
    delivery = Delivery.objects.get()
    job = ProcrastinateJob.objects.get(task_name="alerts.deliver", args={"delivery_id": delivery.pk})
    assert job.status == "todo" and receiver.received == []
    run_jobs()
    assert len(receiver.received) == 1


@override_settings(IOC_SITE_URL="https://ioc.example.vn")
def test_the_leaders_digest_lists_the_days_alerts_in_vietnamese(district, smtp_sink):
    from django.utils import timezone

    from alerts.digest import digest_text, queue_digests
    from tests.conftest import make_user

    leader = make_user("lanhdao", "leader")
    leader.email = "lanhdao@example.org"
    leader.save()
    make_rule(kind="sla_petition", severity="critical")
    _threshold_alert(district)
    late = new_petition(point=inside("24937"))
    late.due_at = timezone.now() - dt.timedelta(hours=1)
    late.save(update_fields=["due_at"])
    evaluate_rules()
    text = digest_text(leader)
    today = timezone.localtime().strftime("%d/%m/%Y")
    assert text.splitlines()[0] == f"Bản tin cảnh báo ngày {today}"
    assert "2 cảnh báo mới trong 24 giờ qua (1 nghiêm trọng, 1 cảnh báo):" in text
    assert text.index(late.tracking_code) < text.index("Đạ Ròn:")  # most severe first
    assert "Cảnh báo chưa xử lý xong: 2." in text
    assert text.endswith("trung tâm cảnh báo: https://ioc.example.vn/alerts/")  # a link a mail reader can open
    Delivery.objects.all().delete()
    queue_digests()
    run_jobs()
    digests = [email.message_from_bytes(m.content, policy=email.policy.default) for m in smtp_sink]
    digests = [m for m in digests if m["Subject"] == f"Bản tin cảnh báo ngày {today}"]
    assert [m["To"] for m in digests] == ["lanhdao@example.org"]
    assert digests[0].get_content().replace("\r\n", "\n").strip() == text


def test_a_data_change_queues_one_evaluation_that_a_worker_runs(district):
    from procrastinate.contrib.django.models import ProcrastinateJob

    rule = _threshold_alert(district, email=False)
    # Two changes through the one change signal (the intake records each petition): one evaluation waits.
    new_petition(point=inside("24931"))
    new_petition(point=inside("24931"))
    waiting = ProcrastinateJob.objects.filter(task_name="alerts.evaluate", status="todo")
    assert waiting.count() == 1
    assert not Alert.objects.exists()  # nothing is evaluated in the writer's request
    run_jobs()
    assert list(Alert.objects.values_list("rule_id", "commune_code", "value")) == [(rule.pk, "24931", 2.0)]
