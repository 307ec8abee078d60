"""The officers' field app (PWA): shell, manifest, service worker, assigned petitions, report sync."""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.gis.db.models.functions import Distance
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from gis_ioc import permissions, roles
from petitions import attachments, field, intake, throttle
from petitions.conf import conf
from petitions.jsonutil import json_response
from petitions.models import HEAVY, OPEN_STATUSES, Petition, Status

LOGIN = "/field/login/"


class FieldLoginView(auth_views.LoginView):
    """Sign-in for officers (the admin login only admits is_staff accounts)."""

    template_name = "petitions/login.html"
    redirect_authenticated_user = True

    def get_default_redirect_url(self) -> str:
        return "/field/"


def may_use(user: Any) -> bool:
    """The field app is the field officers' (administrators hold every role); the site menu shows it to them."""
    return permissions.has_role(user, roles.FIELD_OFFICER)


@login_required(login_url=LOGIN)
def shell(request: HttpRequest) -> HttpResponse:
    """The app page (cached by the service worker, so it opens without a connection)."""
    if not may_use(request.user):
        raise PermissionDenied(_("Ứng dụng hiện trường dành cho cán bộ hiện trường."))
    cfg = conf()
    context = {
        # Read by field.js through json_script: numbers printed by the template would follow the locale
        # ("30,0" in Vietnamese, a syntax error in a script).
        "field_config": {"warnAccuracy": cfg.warn_accuracy_m, "maxAccuracy": cfg.max_accuracy_m},
    }
    return render(request, "petitions/field.html", context)


@throttle.throttled("field-manifest")
def manifest(request: HttpRequest) -> HttpResponse:
    """Web app manifest: installable, standalone, scoped to /field/."""
    data = {
        "name": _("Phản ánh hiện trường – Đơn Dương"),
        "short_name": _("Hiện trường"),
        "start_url": "/field/",
        "scope": "/field/",
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#ffffff",
        "theme_color": "#0b5394",
        "lang": "vi",
        "icons": [
            {"src": static("petitions/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {
                "src": static("petitions/icon-512.png"),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "any maskable",
            },
        ],
    }
    response = json_response(data)
    response["Content-Type"] = "application/manifest+json"
    return response


@never_cache
@throttle.throttled("field-sw")
def service_worker(request: HttpRequest) -> HttpResponse:
    """The service worker, served from /field/ so its scope covers the app."""
    shell_assets = [
        "/field/",
        static("petitions/field.js"),
        static("petitions/field.css"),
        static("gis_ioc/shell.css"),  # the page is drawn in the site's shell
        static("gis_ioc/shell.js"),
        static("petitions/idb-queue.js"),
        static("gis_ioc/basemap.js"),  # field.js imports it: without it the app would not start offline
        static("vendor/maplibre-gl/maplibre-gl.js"),
        static("vendor/maplibre-gl/maplibre-gl.css"),
        "/field/api/communes.geojson",
        "/field/manifest.webmanifest",
    ]
    body = render(request, "petitions/sw.js", {"assets": json.dumps(shell_assets)}).content
    response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = "/field/"
    return response


@throttle.throttled("field-communes")
def communes_geojson(request: HttpRequest) -> HttpResponse:
    """Commune outlines (simplified) for the offline base map: the "communes" catalog layer as the user may
    see it (a scoped officer gets his own communes)."""
    from layers.query import outlines_geojson

    body = json.dumps(outlines_geojson("communes", request.user, simplify=0.0003, precision=5), ensure_ascii=False)
    response = HttpResponse(body, content_type="application/geo+json")
    # What a user gets depends on his scope: private to him, reused for an hour by his own browser.
    response["Cache-Control"] = "private, max-age=3600"
    response["Vary"] = "Cookie, Authorization"
    return response


def _petition_json(user: Any, p: Petition) -> dict[str, Any]:
    private = permissions.can_view_petition_private(user, p)
    distance = getattr(p, "distance", None)  # annotated when the phone sent its position
    return {
        "tracking_code": p.tracking_code,
        "category": p.category,
        "category_label": str(p.get_category_display()),
        "status": p.status,
        "status_label": str(p.get_status_display()),
        "description": p.description,
        "commune": p.commune.name if p.commune is not None else "",
        "lat": round(p.geom.y, 6),
        "lon": round(p.geom.x, 6),
        "due_at": p.due_at.isoformat() if p.due_at else None,
        "overdue": p.is_overdue,
        "distance_m": round(distance.m) if distance is not None else None,
        "reporter_name": p.reporter_name if private else None,
        "reporter_phone": p.reporter_phone if private else None,
        "mine": p.field_officer_id == user.pk,
    }


@login_required(login_url=LOGIN)
def assigned(request: HttpRequest) -> HttpResponse:
    """Petitions for this officer: those assigned to them, then unassigned ones awaiting verification in
    their communes, nearest first when the phone sends its position."""
    if not request.user.is_authenticated or not permissions.has_role(request.user, roles.FIELD_OFFICER):
        return json_response({"error": _("Chỉ dành cho cán bộ hiện trường.")}, status=403)
    qs = (
        Petition.objects.select_related("commune")
        .defer(*HEAVY)
        .filter(
            Q(field_officer=request.user, status__in=OPEN_STATUSES)
            | Q(field_officer__isnull=True, status=Status.RECEIVED)
        )
    )
    qs = permissions.scope_queryset(request.user, qs)
    try:
        here = intake.parse_point(request.GET.get("lat"), request.GET.get("lon")) if request.GET.get("lat") else None
    except intake.IntakeError as exc:
        return json_response({"error": exc.message}, status=400)
    if here is not None:
        qs = qs.annotate(distance=Distance("geom", here)).order_by("distance")
    else:
        qs = qs.order_by("due_at")
    mine = [p for p in qs.filter(field_officer=request.user)[:100]]
    others = [p for p in qs.filter(field_officer__isnull=True)[: max(0, 100 - len(mine))]]
    return json_response({"results": [_petition_json(request.user, p) for p in mine + others]})


@require_POST
def sync(request: HttpRequest) -> HttpResponse:
    """Store one queued report. 201 new, 200 replay of the same report, 409 same UUID with other content."""
    if not request.user.is_authenticated:
        return json_response({"error": _("Phiên đăng nhập đã hết; đăng nhập lại để đồng bộ.")}, status=401)
    # Signed-in officers are not rate-limited (a reconnecting phone flushes its whole queue at once),
    # but the size cap still holds.
    if refusal := throttle.size_refusal(request, conf().max_request_bytes):
        return json_response({"error": refusal.message}, status=refusal.status)
    try:
        result = field.sync_report(request.user, request.POST, request.FILES.getlist("photos"))
    except field.ReportError as exc:
        return json_response({"error": exc.message, "field": exc.field}, status=exc.status)
    except intake.IntakeError as exc:
        return json_response({"error": exc.message, "field": exc.field}, status=400)
    except attachments.AttachmentError as exc:
        return json_response({"error": str(exc), "field": "photos"}, status=400)
    report = result.report
    body = {
        "uuid": str(report.client_uuid),
        "id": report.pk,
        "created": result.created,
        "petition": report.petition.tracking_code if report.petition is not None else None,
        "commune_code": report.commune_code,
        "transition_error": result.transition_error or None,
    }
    return json_response(body, status=201 if result.created else 200)


@login_required(login_url=LOGIN)
def my_reports(request: HttpRequest) -> HttpResponse:
    """Reports this officer synced (the app shows them as confirmed by the server)."""
    assert request.user.is_authenticated  # login_required
    rows = [
        {
            "uuid": str(r.client_uuid),
            "petition": r.petition.tracking_code if r.petition is not None else None,
            "note": r.note,
            "captured_at": r.captured_at.isoformat(),
            "accuracy_m": r.accuracy_m,
        }
        for r in request.user.field_reports.select_related("petition").order_by("-captured_at")[:100]
    ]
    return json_response({"results": rows})
