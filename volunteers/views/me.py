"""A volunteer's own page: my activities, my hours, my tasks, my suggestions (needs a linked login)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST, require_safe

from cases.pages import submit
from communities.models import Building

from .. import selectors, services
from ..forms import SuggestionForm, TaskReportForm
from ..models import SignUp, Task, Volunteer, reach_path


def _me(request: HttpRequest) -> Volunteer:
    volunteer = selectors.volunteer_of(request.user)
    if volunteer is None:
        raise Http404
    return volunteer


def _buildings(volunteer: Volunteer):
    return Building.objects.filter(unit__path__startswith=reach_path(volunteer.unit_path, volunteer.unit.level)).order_by("name")


@require_safe
@login_required
def me(request: HttpRequest) -> HttpResponse:
    volunteer = selectors.volunteer_of(request.user)
    if volunteer is None:
        return render(request, "volunteers/me_none.html", status=404)
    return render_me(request, volunteer)


def render_me(request: HttpRequest, volunteer: Volunteer, *, forms: dict | None = None, status: int = 200) -> HttpResponse:
    now = timezone.now()
    signups = volunteer.signups.select_related("activity", "activity__unit").order_by("-activity__starts_at")
    taken = set(signups.exclude(status=SignUp.Status.CANCELLED).values_list("activity_id", flat=True))
    context = {
        "volunteer": volunteer,
        "upcoming": [s for s in signups if s.activity.starts_at > now and s.status == SignUp.Status.SIGNED_UP],
        "past": [s for s in signups[:30] if s.activity.starts_at <= now],
        "open_activities": [a for a in selectors.open_activities_for(volunteer)[:30] if a.pk not in taken],
        "totals": selectors.volunteer_totals(volunteer),
        "months": selectors.totals_by_month(volunteer.hours.all()),
        "tasks": volunteer.tasks.select_related("case").order_by("status", "-assigned_at")[:20],
        "suggestions": volunteer.suggestions.order_by("-submitted_at")[:20],
        "buildings": volunteer.building_assignments.filter(ended_on__isnull=True).select_related("building"),
        "report_form": TaskReportForm(auto_id="report_%s"),
        "suggestion_form": SuggestionForm(buildings=_buildings(volunteer)),
        "active": volunteer.status == Volunteer.Status.ACTIVE,
        **(forms or {}),
    }
    return render(request, "volunteers/me.html", context, status=status)


@require_POST
@login_required
def sign_up(request: HttpRequest, pk: int) -> HttpResponse:
    volunteer = _me(request)
    activity = get_object_or_404(selectors.open_activities_for(volunteer), pk=pk)
    return submit(
        request, None, lambda: services.sign_up(activity=activity, volunteer=volunteer, by=request.user),
        _("You are signed up for %(title)s.") % {"title": activity.title}, "volunteers:me",
    )


@require_POST
@login_required
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    volunteer = _me(request)
    signup = get_object_or_404(SignUp.objects.select_related("activity"), pk=pk, volunteer=volunteer)
    return submit(
        request, None, lambda: services.cancel_sign_up(signup=signup, by=request.user),
        _("Your sign-up was cancelled."), "volunteers:me",
    )


@require_POST
@login_required
def report(request: HttpRequest, pk: int) -> HttpResponse:
    volunteer = _me(request)
    task = get_object_or_404(Task.objects.select_related("case"), pk=pk, volunteer=volunteer)
    form = TaskReportForm(request.POST, auto_id="report_%s")
    if done := submit(
        request, form, lambda: services.report_task(task=task, by=request.user, **form.cleaned_data),
        _("Thank you. Your report was sent to the case handler."), "volunteers:me", refused_to="volunteers:me",
    ):
        return done
    form.task_pk = task.pk
    return render_me(request, volunteer, forms={"report_form": form}, status=400)


@require_POST
@login_required
def suggest(request: HttpRequest) -> HttpResponse:
    volunteer = _me(request)
    form = SuggestionForm(request.POST, buildings=_buildings(volunteer))
    done = submit(
        request, form, lambda: services.submit_suggestion(volunteer=volunteer, by=request.user, **form.cleaned_data),
        _("Thank you. Your suggestion was sent to your community."), "volunteers:me",
    )
    return done or render_me(request, volunteer, forms={"suggestion_form": form}, status=400)


__all__ = ["me", "sign_up", "cancel", "report", "suggest"]
