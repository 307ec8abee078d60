"""Demo step "petitions.demo" (after "layers.demo", which creates the 5,000 demo petitions).

Adds what the petitions workflow needs around them: agencies, routing rules (district-wide per category,
commune People's Committees for construction order), category deadlines, the agency of every petition
past verification, a reporter row per petition, and an event history consistent with each status
(received → verified → assigned → in progress → resolved → closed, or rejected / duplicate). Written with
set-based SQL so 5,000 petitions take well under a second; idempotent (petitions that already have a
history are left alone).
"""

from __future__ import annotations

from typing import TextIO

from django.db import connection, transaction

from gis_ioc.models import AdminUnit
from petitions.conf import DEFAULT_DEADLINE_DAYS
from petitions.models import Agency, CategoryDeadline, Petition, PetitionEvent, PetitionReporter, RoutingRule

AGENCIES = [
    ("tnmt", "Phòng Tài nguyên và Môi trường huyện Đơn Dương", ["dat_dai", "moi_truong"]),
    ("ktht", "Phòng Kinh tế và Hạ tầng huyện Đơn Dương", ["giao_thong_ha_tang", "trat_tu_xay_dung"]),
    ("ca-huyen", "Công an huyện Đơn Dương", ["an_ninh_trat_tu"]),
    ("yte", "Phòng Y tế huyện Đơn Dương", ["y_te"]),
    ("gddt", "Phòng Giáo dục và Đào tạo huyện Đơn Dương", ["giao_duc"]),
    ("dien-luc", "Điện lực Đơn Dương", ["dien_nuoc"]),
    ("vp-ubnd", "Văn phòng HĐND và UBND huyện", ["thu_tuc_hanh_chinh", "khac"]),
]
DEMO_MEMBERS = {"agency_staff": ["tnmt", "ktht"]}

# Event times relative to reception (days), capped by the resolution time, so histories stay ordered.
HISTORY_SQL = """
WITH p AS (
    SELECT id, status, received_at, resolved_at, agency_id,
           COALESCE(resolved_at, LEAST(now(), received_at + interval '20 days')) AS horizon
    FROM petitions_petition pp
    WHERE is_demo AND pp.id NOT IN (SELECT e.petition_id FROM petitions_petitionevent e)
), steps(action, from_status, to_status, days, statuses, is_public) AS (VALUES
    ('receive', '', 'received', 0.0, ARRAY['received','verified','rejected','duplicate','assigned','in_progress',
        'resolved','closed'], true),
    ('verify', 'received', 'verified', 1.0, ARRAY['verified','assigned','in_progress','resolved','closed'], false),
    ('reject', 'received', 'rejected', 1.0, ARRAY['rejected'], true),
    ('mark_duplicate', 'received', 'duplicate', 1.0, ARRAY['duplicate'], true),
    ('assign', 'verified', 'assigned', 2.0, ARRAY['assigned','in_progress','resolved','closed'], false),
    ('start', 'assigned', 'in_progress', 3.0, ARRAY['in_progress','resolved','closed'], false),
    ('resolve', 'in_progress', 'resolved', NULL, ARRAY['resolved','closed'], true),
    ('close', 'resolved', 'closed', NULL, ARRAY['closed'], true)
)
INSERT INTO petitions_petitionevent (petition_id, action, from_status, to_status, actor_label, agency_id, at, note,
                                     is_public)
SELECT p.id, s.action, s.from_status, s.to_status,
       CASE WHEN s.action = 'receive' THEN 'Cổng thông tin' WHEN s.action IN ('verify', 'reject', 'mark_duplicate')
            THEN 'Cán bộ hiện trường' ELSE 'Dữ liệu mẫu' END,
       CASE WHEN s.action = 'assign' THEN p.agency_id END,
       CASE WHEN s.action = 'resolve' THEN p.resolved_at
            WHEN s.action = 'close' THEN p.resolved_at + interval '2 days'
            ELSE LEAST(p.received_at + s.days * interval '1 day', p.horizon) END,
       CASE s.action WHEN 'resolve' THEN 'Đã kiểm tra và xử lý theo quy định.'
                     WHEN 'reject' THEN 'Nội dung không thuộc thẩm quyền hoặc không đúng thực tế.'
                     WHEN 'mark_duplicate' THEN 'Trùng với phản ánh đã tiếp nhận.' ELSE '' END,
       s.is_public
FROM p JOIN steps s ON p.status = ANY(s.statuses)
WHERE s.action NOT IN ('resolve', 'close') OR p.resolved_at IS NOT NULL
"""


def load(stdout: TextIO, reset: bool = False) -> None:
    """Agencies, rules, deadlines, then agencies, reporters and histories for the demo petitions."""
    with transaction.atomic():
        for category, days in DEFAULT_DEADLINE_DAYS.items():
            CategoryDeadline.objects.get_or_create(category=category, defaults={"days": days})
        agencies = {}
        for code, name, categories in AGENCIES:
            agency, _created = Agency.objects.get_or_create(code=code, defaults={"name": name, "is_demo": True})
            agencies[code] = agency
            for category in categories:
                RoutingRule.objects.get_or_create(
                    category=category, commune_code="", defaults={"agency": agency, "is_demo": True}
                )
        # Construction order is handled by each commune's People's Committee first.
        for unit in AdminUnit.objects.current().communes():
            agency, _created = Agency.objects.get_or_create(
                code=f"ubnd-{unit.code}", defaults={"name": f"UBND {unit.name}", "is_demo": True}
            )
            RoutingRule.objects.get_or_create(
                category="trat_tu_xay_dung", commune_code=unit.code, defaults={"agency": agency, "is_demo": True}
            )
        _add_members(agencies)
        assigned, events, reporters = _histories()
    stdout.write(
        f"Phản ánh: {Agency.objects.count()} cơ quan, {RoutingRule.objects.count()} quy tắc chuyển, "
        f"{assigned} phản ánh gán cơ quan, {events} sự kiện, {reporters} người phản ánh"
    )
    _first_triage_model(stdout)


def _first_triage_model(stdout: TextIO) -> None:
    """The desk's suggestions from the start: a triage model trained on the demo's labelled petitions, unless
    one is in use already (a retraining is the model page's button or `manage.py train_triage`)."""
    from petitions import triage

    if triage.current() is not None:
        return
    try:
        row = triage.train()
    except triage.TriageError as why:
        stdout.write(f"Mô hình phân loại: chưa huấn luyện ({why})")
        return
    urgency = row.metrics.get("urgency", {})
    stdout.write(
        f"Mô hình phân loại: lĩnh vực macro-F1 {row.metrics['macro_f1']:.3f}, "
        + (f"mức khẩn macro-F1 {urgency['macro_f1']:.3f}" if "macro_f1" in urgency else "mức khẩn chưa học")
    )


def _add_members(agencies: dict[str, Agency]) -> None:
    from django.contrib.auth.models import User

    for username, codes in DEMO_MEMBERS.items():
        user = User.objects.filter(username=username).first()
        if user is not None:  # demo_users may run after load_demo; rerunning load_demo links them
            for code in codes:
                agencies[code].members.add(user)


def _histories() -> tuple[int, int, int]:
    # "NOT IN (uncorrelated sub-query)" rather than a correlated NOT EXISTS: on Citus the petitions are
    # distributed and their events and reporters are not, and Citus can run the former, not the latter.
    with connection.cursor() as cursor:
        # The routing rule's agency (the commune's own rule first) for every petition past verification.
        cursor.execute(
            """
            UPDATE petitions_petition p SET agency_id = COALESCE(
                (SELECT agency_id FROM petitions_routingrule r WHERE r.category = p.category
                   AND r.commune_code = p.commune_code),
                (SELECT agency_id FROM petitions_routingrule r WHERE r.category = p.category AND r.commune_code = ''))
            WHERE p.is_demo AND p.agency_id IS NULL
              AND p.status IN ('assigned', 'in_progress', 'resolved', 'closed')
            """
        )
        assigned = cursor.rowcount
        cursor.execute(
            """
            INSERT INTO petitions_petitionreporter (petition_id, original_petition_id, name, phone, email, reported_at)
            SELECT id, id, reporter_name, reporter_phone, reporter_email, received_at FROM petitions_petition p
            WHERE is_demo AND p.id NOT IN (SELECT r.petition_id FROM petitions_petitionreporter r)
            """
        )
        reporters = cursor.rowcount
        cursor.execute(HISTORY_SQL)
        events = cursor.rowcount
        cursor.execute(
            """
            UPDATE petitions_petition p SET version = c.n
            FROM (SELECT petition_id, count(*) AS n FROM petitions_petitionevent GROUP BY petition_id) c
            WHERE c.petition_id = p.id AND p.is_demo
            """
        )
    return assigned, events, reporters


def clear() -> None:
    """Remove the demo histories, reporters, rules and agencies (the petitions belong to layers.demo)."""
    with transaction.atomic():
        PetitionEvent.objects.filter(petition__is_demo=True).delete()
        PetitionReporter.objects.filter(petition__is_demo=True).delete()
        RoutingRule.objects.filter(is_demo=True).delete()
        Petition.objects.filter(is_demo=True).update(agency=None)
        Agency.objects.filter(is_demo=True).delete()
