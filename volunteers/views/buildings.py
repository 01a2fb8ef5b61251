"""党员包楼: which party members answer for which building, and the buildings without one."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST, require_safe

from cases.pages import submit
from communities.selectors import visible_buildings

from .. import selectors, services
from ..forms import AssignBuildingForm
from ..models import Volunteer
from .common import back_to, focus_unit, page_of


def _form(request: HttpRequest, unit, data=None) -> AssignBuildingForm:
    buildings = visible_buildings(request.user).order_by("unit__path", "name")
    members = selectors.visible_volunteers(request.user).filter(status=Volunteer.Status.ACTIVE, party_member=True)
    if unit is not None:
        buildings = buildings.filter(unit__path__startswith=unit.path)
    return AssignBuildingForm(data, buildings=buildings, volunteers=members.order_by("unit_path", "name"),
                              initial={"building": request.GET.get("building")})


@require_safe
@login_required
@permission_required("volunteers.view_buildingassignment", raise_exception=True)
def buildings(request: HttpRequest) -> HttpResponse:
    return render_buildings(request, focus_unit(request))


def render_buildings(request: HttpRequest, unit, *, form=None, status: int = 200) -> HttpResponse:
    context = {"unit": unit, "form": form or _form(request, unit)}
    if unit is not None:
        rows = selectors.buildings_with_party_members(request.user, unit)
        context["page"] = page_of(request, rows, size=100)
        context["without"] = selectors.buildings_without_party_member(request.user, unit).count()
    return render(request, "volunteers/buildings.html", context, status=status)


@require_POST
@login_required
@permission_required("volunteers.assign_building", raise_exception=True)
def assign(request: HttpRequest) -> HttpResponse:
    unit = focus_unit(request)
    form = _form(request, None, request.POST)
    done = submit(
        request, form, lambda: services.assign_building(by=request.user, **form.cleaned_data),
        lambda assignment: _("%(name)s now answers for %(building)s.")
        % {"name": assignment.volunteer.name, "building": assignment.building.name},
        lambda assignment: f"{reverse('volunteers:buildings')}?unit={assignment.building.unit.code}",
    )
    return done or render_buildings(request, unit, form=form, status=400)


@require_POST
@login_required
@permission_required("volunteers.assign_building", raise_exception=True)
def end(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = get_object_or_404(selectors.visible_assignments(request.user), pk=pk)
    return submit(
        request, None, lambda: services.end_assignment(assignment=assignment, by=request.user),
        _("%(name)s no longer answers for %(building)s.")
        % {"name": assignment.volunteer.name, "building": assignment.building.name},
        back_to(request, reverse("volunteers:buildings")),
    )
