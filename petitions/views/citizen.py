"""The citizens' channel: the public form, the status page, rating, and the photo view."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from gis_ioc import permissions
from petitions import attachments, intake, throttle, workflow
from petitions.models import HEAVY, Attachment, Category, CategoryDeadline, Petition, PetitionEvent, Source

MY_PETITIONS = "petitions_mine"
# The receipt secret of the petition just filed, kept in the session only until the receipt page shows it.
NEW_RECEIPT = "petitions_new_receipt"


def refused(request: HttpRequest, refusal: throttle.Refusal) -> HttpResponse:
    """A friendly page for 413/429 on public HTML endpoints."""
    response = render(request, "petitions/refused.html", {"message": refusal.message}, status=refusal.status)
    if refusal.retry_after:
        response["Retry-After"] = str(refusal.retry_after)
    return response


@require_http_methods(["GET", "POST"])
def new_petition(request: HttpRequest) -> HttpResponse:
    """The mobile-first public form: category, description, location (map tap or GPS), photos."""
    context: dict[str, Any] = {"categories": Category.choices, "values": {}, "errors": {}}
    if request.method == "GET":
        if refusal := throttle.check(request, "citizen-read"):
            return refused(request, refusal)
        return render(request, "petitions/new.html", context)
    if refusal := throttle.check(request, "citizen-submit", write=True):
        return refused(request, refusal)
    data = request.POST
    context["values"] = {
        k: data.get(k, "") for k in ("category", "description", "lat", "lon", "name", "phone", "email")
    }
    try:
        photos = attachments.process_uploads(request.FILES.getlist("photos"))
        has_point = bool(data.get("lat", "").strip() or data.get("lon", "").strip())
        point = intake.parse_point(data.get("lat"), data.get("lon")) if has_point or not photos else None
        result = intake.create_petition(
            category=data.get("category"),
            description=data.get("description"),
            point=point,
            reporter=intake.Reporter(data.get("name", ""), data.get("phone", ""), data.get("email", "")),
            source=Source.WEB,
            photos=photos,
        )
    except intake.IntakeError as exc:
        context["errors"] = {exc.field: exc.message}
        return render(request, "petitions/new.html", context, status=400)
    except attachments.AttachmentError as exc:
        context["errors"] = {"photos": str(exc)}
        return render(request, "petitions/new.html", context, status=400)
    mine = request.session.get(MY_PETITIONS, [])
    request.session[MY_PETITIONS] = (mine + [result.petition.tracking_code])[-20:]
    request.session[NEW_RECEIPT] = [result.petition.tracking_code, result.receipt]
    return redirect(reverse("petitions:status", args=[result.petition.tracking_code]) + "?new=1")


def track(request: HttpRequest) -> HttpResponse:
    """Look up a tracking code."""
    if refusal := throttle.check(request, "citizen-read"):
        return refused(request, refusal)
    code = request.GET.get("code", "").strip().upper()
    if code:
        if Petition.objects.filter(tracking_code=code).exists():
            return redirect("petitions:status", code=code)
        return render(request, "petitions/track.html", {"code": code, "not_found": True}, status=404)
    return render(request, "petitions/track.html", {})


def status(request: HttpRequest, code: str) -> HttpResponse:
    """Public status: category, commune, dates, public notes and photo copies — never the reporters."""
    if refusal := throttle.check(request, "citizen-read"):
        return refused(request, refusal)
    petition = get_object_or_404(
        Petition.objects.select_related("commune", "agency", "duplicate_of").defer(*HEAVY), tracking_code=code
    )
    own = code in request.session.get(MY_PETITIONS, [])
    staff = permissions.can_manage_petitions(request.user) and permissions.can_view_commune(
        request.user, petition.commune_code
    )
    events = PetitionEvent.objects.filter(petition=petition).order_by("at", "id")
    just_filed = request.GET.get("new") == "1" and own
    receipt = _take_receipt(request, code) if just_filed else ""
    context = {
        "p": petition,
        "show_description": own or staff,
        "events": [(e, workflow.ACTION_LABELS.get(e.action, e.action), e.note if e.is_public else "") for e in events],
        # The citizens' photos (never an officer's field-report photos), when the petition's public face is.
        "photos": Attachment.objects.filter(petition=petition).citizen_photos()
        if petition.public_face_visible_to(request.user)
        else [],
        "deadline_days": CategoryDeadline.days_for(petition.category),
        "just_filed": just_filed,
        "receipt": receipt,
        "can_rate": petition.status in ("resolved", "closed") and petition.rating is None,
        "rated": request.GET.get("rated") == "1",
    }
    response = render(request, "petitions/status.html", context)
    if receipt:
        response["Cache-Control"] = "no-store"  # the secret must not stay in a shared cache or the history
    return response


def _take_receipt(request: HttpRequest, code: str) -> str:
    """The receipt secret of the petition just filed in this session, once: it leaves the session here."""
    held = request.session.get(NEW_RECEIPT)
    if not held or held[0] != code:
        return ""
    del request.session[NEW_RECEIPT]
    return str(held[1])


@require_http_methods(["POST"])
def rate(request: HttpRequest, code: str) -> HttpResponse:
    """The filer's 1–5 rating of the resolution, proven by the receipt secret (403 without it)."""
    if refusal := throttle.check(request, "citizen-submit", write=True):
        return refused(request, refusal)
    try:
        value = int(request.POST.get("rating", ""))
        workflow.rate(code, value, request.POST.get("comment", ""), receipt=request.POST.get("receipt", ""))
    except ValueError:
        return HttpResponse(_("Đánh giá phải từ 1 đến 5 sao."), status=400, content_type="text/plain; charset=utf-8")
    except workflow.WorkflowError as exc:
        return HttpResponse(exc.message, status=exc.status, content_type="text/plain; charset=utf-8")
    return redirect(reverse("petitions:status", args=[code]) + "?rated=1")


def attachment(request: HttpRequest, key: uuid.UUID, kind: str) -> HttpResponseBase:
    """A photo by its unguessable key: the copy without EXIF or the thumbnail when the petition's public
    face is visible to the user, the original (with EXIF) and field-report photos only to staff entitled to
    the petition's private data (Attachment.viewable_by)."""
    if refusal := throttle.check(request, "citizen-read"):
        return refused(request, refusal)
    if kind not in ("original", "public", "thumb"):
        raise Http404
    item = get_object_or_404(Attachment.objects.select_related("petition", "report__petition"), key=key)
    if not item.viewable_by(request.user, kind):
        if not request.user.is_authenticated:
            raise Http404  # to the public, a photo it may not see does not exist
        message = _("Ảnh này chỉ dành cho cán bộ được xem thông tin riêng của phản ánh trên địa bàn của mình.")
        return render(request, "petitions/refused.html", {"message": message}, status=403)
    field = {"original": item.original, "public": item.public, "thumb": item.thumbnail}[kind]
    response = FileResponse(field.open("rb"), content_type=item.content_type if kind == "original" else "image/jpeg")
    response["X-Content-Type-Options"] = "nosniff"
    # Shared caches may keep only what anonymous users may see.
    public = not request.user.is_authenticated
    response["Cache-Control"] = "public, max-age=86400" if public else "private, max-age=3600"
    return response
