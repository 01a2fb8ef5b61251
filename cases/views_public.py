"""Public pages for residents without an account: report a problem, follow it, rate it."""

from __future__ import annotations

import logging
import re
import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import SuspiciousOperation, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from communities.models import Unit

from . import posters, ratelimits, selectors, services
from .forms_public import AddInformationForm, RatingForm, ReportForm, TrackForm, initial_for_unit, poster_unit
from .models import Attachment, Case, ReturnVisit, new_tracking_code
from .pages import submit
from .uploads import private_file_response

logger = logging.getLogger(__name__)

TRACK_COOKIE = "tracked"
MAX_TRACKED = 20  # codes one browser follows at once (the cookie stays well under 4 kB)
KEPT_FIELDS = ("category", "description", "street", "community", "building", "address", "unit",
               "resident_name", "resident_phone", "consent", "submission")
THROTTLED = _(
    "Too many submissions from your network. Please wait ten minutes and try again; what you typed is kept."
)
NO_MATCH = _("No request matches this tracking code and these digits. Check both and try again.")
TRACK_THROTTLED = _("Too many attempts. Please wait a while and try again.")
ACTION_LABELS = {
    "submitted": _("Request received"),
    "dispatched": _("Sent to the unit that handles it"),
    "reassigned": _("Sent to another unit to handle it"),
    "accepted": _("Accepted by the handling unit"),
    "returned": _("Returned to the dispatch desk"),
    "contacted": _("The handler contacted you"),
    "progress": _("Progress"),
    "resolved": _("Resolved"),
    "closed": _("Closed"),
    "rated": _("Your rating"),
    "reopened": _("Reopened: to be handled again"),
    "information_added": _("Information you added"),
    "merged": _("Handled together with a request about the same problem"),
    "supervised": _("Put under supervision by a higher level"),
}
IN_FLIGHT = _("This request is already being sent. Wait a moment, then open “Follow a request”.")
SUBMISSION_PENDING = "pending"  # the claim of a request in flight, as earlier releases wrote it
SUBMISSION_SECONDS = 24 * 3600  # a form sent again within a day shows its first case
SUBMISSION_IN_FLIGHT_SECONDS = 120  # a claim whose case is still missing after this was a request that died
SUBMISSION_TOKEN = re.compile(r"[0-9a-f]{32}")
PHOTOS_AGAIN = _("Please correct the marked fields. Photos are not kept after an error: choose them again.")
NOT_SENT = _(
    "Your request was NOT sent: the page had been open too long, or your browser refused this site's cookies. "
    "What you typed is below: check it and tap “Send the request” again. If this message comes back, allow "
    "cookies for this site or open the page in another browser."
)
NOT_SENT_PHOTOS = _(
    "Your request was NOT sent: the page had been open too long, or your browser refused this site's cookies. "
    "What you typed is below, but photos are not kept: choose them again, then tap “Send the request”. If this "
    "message comes back, allow cookies for this site or open the page in another browser."
)


# --- the cases this browser verified ---------------------------------------------------


def _track_seconds() -> int:
    return int(getattr(settings, "PUBLIC_TRACK_SESSION_SECONDS", 2 * 3600))


def _tracked(request: HttpRequest) -> dict[str, float]:
    """The cases this browser has proved it may follow: code → until when (seconds since the epoch)."""
    try:
        value = request.get_signed_cookie(TRACK_COOKIE, salt=TRACK_COOKIE, max_age=_track_seconds())
    except (KeyError, signing.BadSignature):
        return {}
    now, tracked = time.time(), {}
    for item in value.split(","):
        code, _sep, until = item.partition(":")
        if until.isdigit() and int(until) > now:
            tracked[code] = int(until)
    return tracked


def remember(request: HttpRequest, response: HttpResponse, code: str) -> HttpResponse:
    """The resident proved they know this case (code + phone digits, or they just submitted it).

    Kept in a signed cookie, not the session: a submission then writes no session row, and a
    cookie planted by someone else cannot learn the codes this browser proves (its copy never changes).
    """
    tracked = _tracked(request)
    tracked[code] = int(time.time()) + _track_seconds()
    newest = sorted(tracked.items(), key=lambda item: item[1])[-MAX_TRACKED:]
    response.set_signed_cookie(
        TRACK_COOKIE, ",".join(f"{c}:{until}" for c, until in newest), salt=TRACK_COOKIE,
        max_age=_track_seconds(), secure=settings.SESSION_COOKIE_SECURE, httponly=True, samesite="Lax",
    )
    return response


def remembered_codes(request: HttpRequest) -> list[str]:
    return list(_tracked(request))


def _to_track_form(code: str) -> HttpResponse:
    return redirect(f"{reverse('cases_public:track')}?{urlencode({'code': code[:16]})}")


def _resident_case(request: HttpRequest, code: str) -> Case | None:
    if code not in remembered_codes(request):
        return None
    return Case.objects.select_related(
        "unit", "category", "location_unit", "building", "merged_into"
    ).filter(code=code).first()


# --- /report/ ---------------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
def report(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _submit_report(request)
    unit = poster_unit(request.GET.get("unit", "").strip()[:40])
    return _render_report(request, ReportForm(initial=initial_for_unit(unit)), from_poster=unit)


def _submit_report(request: HttpRequest) -> HttpResponse:
    if "refresh" in request.POST:  # no-JS fallback of the dependent place lists
        return _render_report(request, ReportForm(initial=_kept(request)))
    token = request.POST.get("submission", "")
    code = new_tracking_code()  # the case's, chosen now: the claim on the token names it
    earlier = _claim_submission(token, code)
    if earlier is not None:
        earlier_code, claimed_at = earlier
        if earlier_code and Case.objects.filter(code=earlier_code).exists():
            # Sent twice (double tap, back and resend): the first one's case, not a second.
            return remember(request, redirect("cases_public:done", code=earlier_code), earlier_code)
        if time.time() - claimed_at < SUBMISSION_IN_FLIGHT_SECONDS:
            return _render_report(request, ReportForm(initial=_kept(request)), error=IN_FLIGHT, status=409)
        _claim_submission(token, code, again=True)  # the request that claimed it died before its case was made
    case = None
    try:
        response, case = _accept_report(request, code)
    finally:
        if case is None:
            _release_submission(token)  # refused: the corrected form may be sent again
    return response


def _accept_report(request: HttpRequest, code: str) -> tuple[HttpResponse, Case | None]:
    ip_rate, accepted_rate = ratelimits.rate_for("REPORT_POST_RATE"), ratelimits.rate_for("REPORT_ACCEPTED_RATE")
    if ratelimits.hit(request, group="report-post", rate=ip_rate) or ratelimits.exhausted(
        request, group="report-accepted", rate=accepted_rate
    ):
        logger.warning("report form throttled for %s", ratelimits.client_ip(request))
        return _render_report(request, ReportForm(initial=_kept(request)), error=THROTTLED, status=429), None
    form = ReportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _invalid_report(request, form), None
    try:
        case = services.intake(code=code, **form.intake_fields())
    except services.IllegalTransition as error:
        form.add_error(None, error.message)
        return _invalid_report(request, form), None
    except ValidationError as error:
        form.add_error(None, error.messages)  # the service's field names need not be the form's
        return _invalid_report(request, form), None
    ratelimits.hit(request, group="report-accepted", rate=accepted_rate)
    return remember(request, redirect("cases_public:done", code=case.code), case.code), case


def _submission_key(token: str) -> str | None:
    return f"cases_public:submission:{token}" if SUBMISSION_TOKEN.fullmatch(token or "") else None


def _claim_submission(token: str, code: str, *, again: bool = False) -> tuple[str, float] | None:
    """None if this form submission is new: it is now claimed for the case ``code``, for a day.
    Else the earlier claim: (the code of its case, made or still being made, and when it was claimed).

    A claim made in advance needs no second round trip once the case is made; a refused
    submission releases its claim. ``again``: take over a claim whose request died.
    """
    key = _submission_key(token)
    if key is None:
        return None
    claim = f"{code} {time.time():.0f}"
    if again:
        cache.set(key, claim, SUBMISSION_SECONDS)
        return None
    if cache.add(key, claim, SUBMISSION_SECONDS):
        return None
    earlier = cache.get(key)
    if earlier is None:  # expired meanwhile
        return None
    if earlier == SUBMISSION_PENDING:
        return "", time.time()
    earlier_code, _space, claimed_at = earlier.partition(" ")
    return earlier_code, float(claimed_at or 0)


def _release_submission(token: str) -> None:
    key = _submission_key(token)
    if key is not None:
        cache.delete(key)


def _invalid_report(request: HttpRequest, form: ReportForm) -> HttpResponse:
    if form.honeypot_filled:
        logger.warning("report form honeypot filled from %s", ratelimits.client_ip(request))
    error = PHOTOS_AGAIN if request.FILES else None
    return _render_report(request, form, error=error)


def _kept(request: HttpRequest) -> dict:
    return {name: request.POST.get(name, "") for name in KEPT_FIELDS if name in request.POST}


def report_not_sent(request: HttpRequest) -> HttpResponse | None:
    """The form again, filled in, after the CSRF check refused it (governance.views.csrf_failure).

    Nothing reached the view, so no case and no claimed submission token: the kept token makes a
    double tap on the resent form one case as usual. None if the body cannot be read.
    """
    try:
        kept, photos = _kept(request), bool(request.FILES)
    except (OSError, MultiPartParserError, SuspiciousOperation):
        return None
    return _render_report(
        request, ReportForm(initial=kept), error=NOT_SENT_PHOTOS if photos else NOT_SENT, status=403
    )


def _render_report(
    request: HttpRequest, form: ReportForm, *, error=None, status: int = 200, from_poster: Unit | None = None
) -> HttpResponse:
    return render(
        request, "cases/public/report.html",
        {"form": form, "error": error, "from_poster": from_poster},
        status=status,
    )


@require_safe
def places(request: HttpRequest) -> HttpResponse:
    """The place selects again, for the street or community just chosen (htmx)."""
    initial = {name: request.GET.get(name, "") for name in ("street", "community", "building", "unit")}
    form = ReportForm(initial=initial)
    return render(request, "cases/public/_places.html", {"form": form})


@never_cache
@require_safe
def done(request: HttpRequest, code: str) -> HttpResponse:
    case = _resident_case(request, code)
    if case is None:
        return _to_track_form(code)
    return render(request, "cases/public/done.html", {"case": case})


# --- /track/ ----------------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
def track(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        form = TrackForm(initial={"code": request.GET.get("code", "")[:16]})
        return _render_track(request, form)
    if ratelimits.hit(request, group="track-ip", rate=ratelimits.rate_for("TRACK_IP_RATE")):
        return _render_track(request, TrackForm(request.POST), error=TRACK_THROTTLED, status=429)
    form = TrackForm(request.POST)
    if not form.is_valid():
        return _render_track(request, form)
    code = form.cleaned_data["code"]
    guess = ratelimits.guess(
        request, group="track", subject=code, subject_rate=ratelimits.rate_for("TRACK_CODE_RATE"),
        client_rate=ratelimits.rate_for("TRACK_CLIENT_CODE_RATE"),
    )
    if not guess.allowed:
        return _render_track(request, form, error=TRACK_THROTTLED, status=429)
    case = selectors.case_for_resident(code, form.cleaned_data["phone_last4"])
    if case is None:
        return _render_track(request, form, error=NO_MATCH)
    guess.succeeded()
    return remember(request, redirect("cases_public:status", code=case.code), case.code)


def _render_track(request: HttpRequest, form: TrackForm, *, error=None, status: int = 200) -> HttpResponse:
    context = {"form": form, "error": error, "remembered": remembered_codes(request)}
    return render(request, "cases/public/track.html", context, status=status)


@never_cache
@require_safe
def status(request: HttpRequest, code: str) -> HttpResponse:
    case = _resident_case(request, code)
    if case is None:
        return _to_track_form(code)
    return _render_status(request, case)


def _render_status(request, case: Case, *, info_form=None, rating_form=None, status: int = 200) -> HttpResponse:
    lead = selectors.lead_of(case)
    context = {
        "case": case,
        "lead": lead if lead.pk != case.pk else None,
        "events": _labelled(selectors.resident_timeline(case)),  # internal notes already blanked
        "info_form": info_form or AddInformationForm(),
        "rating_form": rating_form or RatingForm(),
        "can_rate": services.resident_may_rate(case),
        "can_add_information": case.status != Case.Status.MERGED,
    }
    return render(request, "cases/public/status.html", context, status=status)


def _labelled(events: list) -> list:
    for event in events:
        label = ACTION_LABELS.get(event.action)
        if label is None and event.to_status in Case.Status.values:
            label = Case.Status(event.to_status).label
        event.public_label = label or _("Update")
    return events


def _resident_post(request: HttpRequest, code: str):
    """The verified case for a POST from the status page, or a response to send instead."""
    case = _resident_case(request, code)
    if case is None:
        return None, _to_track_form(code)
    if ratelimits.hit(request, group="resident-post", rate=ratelimits.rate_for("RESIDENT_POST_RATE")):
        messages.error(request, TRACK_THROTTLED)
        return None, redirect("cases_public:status", code=code)
    return case, None


@require_POST
def add_information(request: HttpRequest, code: str) -> HttpResponse:
    case, response = _resident_post(request, code)
    if response:
        return response
    form = AddInformationForm(request.POST, request.FILES)
    if not form.is_valid() and request.FILES:
        messages.error(request, PHOTOS_AGAIN)
    here = reverse("cases_public:status", kwargs={"code": case.code})
    done = submit(
        request, form,
        lambda: services.add_information(case=case, text=form.cleaned_data["text"], photos=form.cleaned_data["photos"]),
        _("Thank you. Your information was added to the request."), here, refused_to=here, errors_on_fields=False,
    )
    return done or _render_status(request, case, info_form=form)


@require_POST
def rate(request: HttpRequest, code: str) -> HttpResponse:
    case, response = _resident_post(request, code)
    if response:
        return response
    form = RatingForm(request.POST)
    here = reverse("cases_public:status", kwargs={"code": case.code})
    done = submit(
        request, form, lambda: services.rate(case=case, channel=ReturnVisit.Channel.WEB, **form.cleaned_data),
        lambda visit: _("Thank you for your rating.") if form.cleaned_data["resolved"]
        else _("Thank you. The request was sent back to be handled again."),
        here, refused_to=here, errors_on_fields=False,
    )
    return done or _render_status(request, case, rating_form=form)


@require_safe
def resident_photo(request: HttpRequest, code: str, pk: int) -> FileResponse:
    """A public photo of a case, for the resident whose browser verified it."""
    if code not in remembered_codes(request):
        raise Http404
    attachment = selectors.resident_photo(code, pk)
    if attachment is None:
        raise Http404
    return photo_response(attachment)


def photo_response(attachment: Attachment) -> FileResponse:
    return private_file_response(
        attachment.file, content_type=attachment.content_type, filename=f"photo-{attachment.pk}.{attachment.extension}"
    )


# --- QR posters -----------------------------------------------------------------------------


def _poster(request: HttpRequest, code: str) -> posters.Poster:
    unit = get_object_or_404(Unit.objects.select_related("parent"), code=code, level__in=posters.POSTER_LEVELS)
    report_url = request.build_absolute_uri(f"{reverse('cases_public:report')}?unit={unit.code}")
    track_url = request.build_absolute_uri(reverse("cases_public:track"))
    return posters.Poster(unit=unit, report_url=report_url, track_url=track_url)


@require_safe
def poster(request: HttpRequest, code: str) -> HttpResponse:
    """The A4 poster on a page: print it, or download the SVG for a print shop."""
    item = _poster(request, code)
    return render(request, "cases/public/poster.html", {"poster": item, "svg": mark_safe(posters.render_svg(item))})


@require_safe
def poster_svg(request: HttpRequest, code: str) -> HttpResponse:
    item = _poster(request, code)
    body = '<?xml version="1.0" encoding="utf-8"?>\n' + posters.render_svg(item)
    response = HttpResponse(body, content_type="image/svg+xml; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="poster-{item.unit.code}.svg"'
    return response
