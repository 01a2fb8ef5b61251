"""Teams: the list with members and hours, one team's page, adding and editing, members."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from cases.pages import submit
from communities.selectors import visible_units

from .. import selectors, services
from ..forms import LeaderForm, MemberForm, TeamForm
from ..models import Membership, Team, Volunteer, reach_path
from .common import page_of


@require_safe
@login_required
@permission_required("volunteers.view_team", raise_exception=True)
def teams(request: HttpRequest) -> HttpResponse:
    rows = (
        selectors.visible_teams(request.user)
        .annotate(n_members=Count("memberships", distinct=True),
                  n_active=Count("memberships", filter=Q(memberships__volunteer__status=Volunteer.Status.ACTIVE), distinct=True))
        .order_by("-active", "unit__path", "name")
    )
    return render(request, "volunteers/teams.html", {"page": page_of(request, rows)})


def _team(request: HttpRequest, pk: int) -> Team:
    return get_object_or_404(selectors.visible_teams(request.user), pk=pk)


def _candidates(request: HttpRequest, team: Team):
    """Active volunteers the user sees who live in the team's area and are not yet in it."""
    return (
        selectors.visible_volunteers(request.user)
        .filter(status=Volunteer.Status.ACTIVE, unit_path__startswith=reach_path(team.unit.path, team.unit.level))
        .exclude(memberships__team=team)
        .order_by("unit_path", "name")
    )


@require_safe
@login_required
@permission_required("volunteers.view_team", raise_exception=True)
def team(request: HttpRequest, pk: int) -> HttpResponse:
    return render_team(request, _team(request, pk))


def render_team(request: HttpRequest, team: Team, *, forms: dict | None = None, status: int = 200) -> HttpResponse:
    members = Membership.objects.filter(team=team).values("volunteer")
    volunteers = selectors.roster_rows(Volunteer.objects.filter(pk__in=members).order_by("name", "pk"))
    may_lead = Volunteer.objects.filter(pk__in=members, anonymised_at__isnull=True)
    context = {
        "team": team,
        "members": volunteers,
        "activities": team.activities.select_related("unit").order_by("-starts_at")[:10],
        "member_form": MemberForm(volunteers=_candidates(request, team)),
        "leader_form": LeaderForm(volunteers=may_lead.order_by("name"),
                                  initial={"volunteer": team.leader_id}),
        **(forms or {}),
    }
    return render(request, "volunteers/team_detail.html", context, status=status)


def _team_form(request: HttpRequest, data=None, *, instance: Team | None = None) -> TeamForm:
    initial = {}
    if instance is not None:
        initial = {name: getattr(instance, name) for name in ("name", "kind", "unit", "description", "active")}
    return TeamForm(data, initial=initial or {"active": True}, units=visible_units(request.user).order_by("path"))


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
@permission_required("volunteers.add_team", raise_exception=True)
def add(request: HttpRequest) -> HttpResponse:
    return _save_team(request, None, perm_call=lambda data: services.create_team(by=request.user, **data))


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
@permission_required("volunteers.change_team", raise_exception=True)
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    team = _team(request, pk)
    return _save_team(request, team, perm_call=lambda data: services.update_team(team=team, by=request.user, **data))


def _save_team(request: HttpRequest, team: Team | None, *, perm_call) -> HttpResponse:
    form = _team_form(request, request.POST or None, instance=team)
    done = submit(request, form, lambda: perm_call(form.cleaned_data), _("The team was saved."), lambda saved: saved)
    return done or render(request, "volunteers/team_form.html", {"form": form, "team": team})


@require_POST
@login_required
@permission_required("volunteers.change_team", raise_exception=True)
def add_member(request: HttpRequest, pk: int) -> HttpResponse:
    team = _team(request, pk)
    form = MemberForm(request.POST, volunteers=_candidates(request, team))
    done = submit(
        request, form,
        lambda: services.add_member(team=team, volunteer=form.cleaned_data["volunteer"], by=request.user),
        lambda membership: _("%(name)s joined the team.") % {"name": membership.volunteer.name}, team,
    )
    return done or render_team(request, team, forms={"member_form": form}, status=400)


@require_POST
@login_required
@permission_required("volunteers.change_team", raise_exception=True)
def remove_member(request: HttpRequest, pk: int, volunteer_pk: int) -> HttpResponse:
    team = _team(request, pk)
    volunteer = get_object_or_404(Volunteer, pk=volunteer_pk, memberships__team=team)
    return submit(
        request, None, lambda: services.remove_member(team=team, volunteer=volunteer, by=request.user),
        _("%(name)s left the team.") % {"name": volunteer.name}, team,
    )


@require_POST
@login_required
@permission_required("volunteers.change_team", raise_exception=True)
def set_leader(request: HttpRequest, pk: int) -> HttpResponse:
    team = _team(request, pk)
    members = Membership.objects.filter(team=team).values("volunteer")
    form = LeaderForm(request.POST, volunteers=Volunteer.objects.filter(pk__in=members, anonymised_at__isnull=True))
    done = submit(
        request, form,
        lambda: services.set_leader(team=team, volunteer=form.cleaned_data["volunteer"], by=request.user),
        _("The team leader was saved."), team, refused_to=team,
    )
    return done or render_team(request, team, forms={"leader_form": form}, status=400)
