"""Activities: the month calendar, one activity with its sign-ups, check-in and check-out."""

from __future__ import annotations

from datetime import date

from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from cases import rates
from cases.pages import submit
from communities.selectors import visible_units

from .. import selectors, services
from ..forms import ActivityForm, AttendanceForm, SignUpForm
from ..models import Activity, SignUp, Volunteer, reach_path
from .common import focus_unit

SIGNUP_ACTIONS = {
    "check-in": (services.check_in, _("Checked in.")),
    "check-out": (services.check_out, _("Checked out; the hours were credited.")),
    "no-show": (services.mark_no_show, _("Marked as absent.")),
    "cancel": (services.cancel_sign_up, _("The sign-up was cancelled.")),
}


def _month(request: HttpRequest) -> date:
    try:
        return rates.parse_month(request.GET.get("month", ""))
    except ValueError:
        return rates.current_month()


@require_safe
@login_required
@permission_required("volunteers.view_activity", raise_exception=True)
def calendar(request: HttpRequest) -> HttpResponse:
    month = _month(request)
    unit = focus_unit(request) if request.GET.get("unit") else None
    activities = selectors.visible_activities(request.user)
    if unit is not None:
        activities = activities.filter(unit_path__startswith=unit.path)
    context = {
        "month": month, "previous": rates.previous_month(month), "following": rates.next_month(month), "unit": unit,
        "days": selectors.calendar(activities, month), "today": timezone.localdate(),
    }
    return render(request, "volunteers/calendar.html", context)


def _activity(request: HttpRequest, pk: int) -> Activity:
    return get_object_or_404(selectors.visible_activities(request.user), pk=pk)


def _eligible(request: HttpRequest, activity: Activity):
    return (
        selectors.visible_volunteers(request.user)
        .filter(status=Volunteer.Status.ACTIVE, unit_path__startswith=reach_path(activity.unit.path, activity.unit.level))
        .exclude(Exists(SignUp.objects.filter(activity=activity, volunteer=OuterRef("pk"), status__in=SignUp.HOLDS_SEAT)))
        .order_by("unit_path", "name")
    )


@require_safe
@login_required
@permission_required("volunteers.view_activity", raise_exception=True)
def activity(request: HttpRequest, pk: int) -> HttpResponse:
    return render_activity(request, _activity(request, pk))


def render_activity(request: HttpRequest, activity: Activity, *, forms: dict | None = None, status: int = 200) -> HttpResponse:
    signups = (
        SignUp.objects.filter(activity=activity).select_related("volunteer", "volunteer__unit")
        .order_by("status", "signed_up_at", "pk")
    )
    context = {
        "activity": activity,
        "signups": signups,
        "now": timezone.now(),
        "signup_form": SignUpForm(volunteers=_eligible(request, activity)),
        "attendance_form": AttendanceForm(
            auto_id=False, initial={"checked_in_at": activity.starts_at, "checked_out_at": activity.ends_at}
        ),
        **(forms or {}),
    }
    return render(request, "volunteers/activity_detail.html", context, status=status)


def _activity_form(request: HttpRequest, data=None, *, instance: Activity | None = None) -> ActivityForm:
    initial = {}
    if instance is not None:
        names = ("title", "kind", "unit", "team", "place", "starts_at", "ends_at", "capacity", "description")
        initial = {name: getattr(instance, name) for name in names}
        initial["starts_at"] = timezone.localtime(instance.starts_at)
        initial["ends_at"] = timezone.localtime(instance.ends_at)
    return ActivityForm(
        data, initial=initial, units=visible_units(request.user).order_by("path"),
        teams=selectors.visible_teams(request.user).filter(active=True).order_by("name"),
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
@permission_required("volunteers.add_activity", raise_exception=True)
def add(request: HttpRequest) -> HttpResponse:
    return _save(request, None, lambda data: services.create_activity(by=request.user, **data))


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
@permission_required("volunteers.change_activity", raise_exception=True)
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    activity = _activity(request, pk)
    return _save(request, activity, lambda data: services.update_activity(activity=activity, by=request.user, **data))


def _save(request: HttpRequest, activity: Activity | None, call) -> HttpResponse:
    form = _activity_form(request, request.POST or None, instance=activity)
    done = submit(request, form, lambda: call(form.cleaned_data), _("The activity was saved."), lambda saved: saved)
    return done or render(request, "volunteers/activity_form.html", {"form": form, "activity": activity})


@require_POST
@login_required
@permission_required("volunteers.change_activity", raise_exception=True)
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    activity = _activity(request, pk)
    return submit(
        request, None, lambda: services.cancel_activity(activity=activity, by=request.user),
        _("The activity was cancelled, and its sign-ups with it."), activity,
    )


@require_POST
@login_required
@permission_required("volunteers.record_hours", raise_exception=True)
def sign_up(request: HttpRequest, pk: int) -> HttpResponse:
    activity = _activity(request, pk)
    form = SignUpForm(request.POST, volunteers=_eligible(request, activity))
    done = submit(
        request, form,
        lambda: services.sign_up(activity=activity, volunteer=form.cleaned_data["volunteer"], by=request.user),
        lambda signup: _("%(name)s is signed up.") % {"name": signup.volunteer.name}, activity,
    )
    return done or render_activity(request, activity, forms={"signup_form": form}, status=400)


def _signup(request: HttpRequest, pk: int) -> SignUp:
    return get_object_or_404(selectors.visible_signups(request.user), pk=pk)


@require_POST
@login_required
@permission_required("volunteers.record_hours", raise_exception=True)
def signup_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    if action not in SIGNUP_ACTIONS:
        raise Http404
    signup = _signup(request, pk)
    call, success = SIGNUP_ACTIONS[action]
    return submit(request, None, lambda: call(signup=signup, by=request.user), success, signup.activity)


@require_POST
@login_required
@permission_required("volunteers.record_hours", raise_exception=True)
def attendance(request: HttpRequest, pk: int) -> HttpResponse:
    """Both times from the paper list, for an activity that is over."""
    signup = _signup(request, pk)
    form = AttendanceForm(request.POST, auto_id=False)
    if done := submit(
        request, form, lambda: services.record_attendance(signup=signup, by=request.user, **form.cleaned_data),
        _("The attendance of %(name)s was recorded.") % {"name": signup.volunteer.name},
        signup.activity, refused_to=signup.activity,
    ):
        return done
    form.signup_pk = signup.pk
    return render_activity(request, signup.activity, forms={"attendance_form": form}, status=400)
