"""/volunteers/join/: residents register as volunteers without an account.

The same protections as the request form: a honeypot field, per-address limits counted by
``cases.ratelimits`` in the shared cache (behind the configured number of trusted proxies),
clear errors with everything typed kept. The community approves or declines each registration.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from cases import ratelimits

from .. import services
from ..forms_public import JoinForm
from ..models import Volunteer

logger = logging.getLogger(__name__)

# Defaults; a deployment may tune them in settings (PUBLIC_VOLUNTEER_JOIN_*_RATE).
JOIN_POST_RATE = "20/10m"  # any POST of the form (typos included) from one address
JOIN_ACCEPTED_RATE = "5/h"  # registrations accepted from one address
THROTTLED = _("Too many registrations from your network. Please wait a while and try again; what you typed is kept.")
SESSION_KEY = "volunteers.joined"
NOT_SENT = _(
    "Your registration was NOT sent: the page had been open too long, or your browser refused this site's "
    "cookies. What you typed is below: check it and tap “Register” again. If this message comes back, allow "
    "cookies for this site or open the page in another browser."
)


def _rate(name: str, default: str) -> str:
    return getattr(settings, f"PUBLIC_VOLUNTEER_{name}", default)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def join(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _render(request, JoinForm())
    if "refresh" in request.POST:  # no-JS fallback of the dependent place lists
        return _render(request, JoinForm(initial=_kept(request)))
    post_rate, accepted_rate = _rate("JOIN_POST_RATE", JOIN_POST_RATE), _rate("JOIN_ACCEPTED_RATE", JOIN_ACCEPTED_RATE)
    if ratelimits.hit(request, group="volunteer-join-post", rate=post_rate) or ratelimits.exhausted(
        request, group="volunteer-join-accepted", rate=accepted_rate
    ):
        logger.warning("volunteer registration throttled for %s", ratelimits.client_ip(request))
        return _render(request, JoinForm(initial=_kept(request)), error=THROTTLED, status=429)
    form = JoinForm(request.POST)
    if not form.is_valid():
        if form.honeypot_filled:
            logger.warning("volunteer registration honeypot filled from %s", ratelimits.client_ip(request))
        return _render(request, form)
    try:
        volunteer = services.register(**form.service_fields())
    except ValidationError as error:
        if _sent_twice(form):
            return redirect("volunteers:join_done")
        for name, errors in error.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
        return _render(request, form)
    ratelimits.hit(request, group="volunteer-join-accepted", rate=accepted_rate)
    request.session.cycle_key()
    request.session[SESSION_KEY] = volunteer.name
    return redirect("volunteers:join_done")


def _sent_twice(form: JoinForm) -> bool:
    """The same registration sent again (a double tap): the first one's thanks, not an error."""
    recent = timezone.now() - timedelta(minutes=10)
    return Volunteer.objects.filter(
        phone=form.cleaned_data["phone"], name=form.cleaned_data["name"].strip(),
        status=Volunteer.Status.APPLIED, applied_at__gte=recent,
    ).exists()


def join_not_sent(request: HttpRequest) -> HttpResponse:
    """The form again, filled in, after the CSRF check refused it (governance.views.csrf_failure)."""
    return _render(request, JoinForm(initial=_kept(request)), error=NOT_SENT, status=403)


def _kept(request: HttpRequest) -> dict:
    kept = {name: value for name, value in request.POST.items() if name not in ("csrfmiddlewaretoken", "website")}
    kept["skills"] = request.POST.getlist("skills")
    return kept


def _render(request: HttpRequest, form: JoinForm, *, error=None, status: int = 200) -> HttpResponse:
    return render(request, "volunteers/public/join.html", {"form": form, "error": error}, status=status)


@require_safe
def places(request: HttpRequest) -> HttpResponse:
    """The place selects again, for the street or community just chosen (htmx)."""
    form = JoinForm(initial={name: request.GET.get(name, "") for name in ("street", "community", "building")})
    return render(request, "volunteers/public/_places.html", {"form": form})


@never_cache
@require_safe
def done(request: HttpRequest) -> HttpResponse:
    return render(request, "volunteers/public/join_done.html", {"name": request.session.get(SESSION_KEY, "")})
