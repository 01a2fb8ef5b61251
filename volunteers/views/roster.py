"""The roster: list, applications, one volunteer's page, adding, editing, status, import."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from cases.pages import submit
from communities.selectors import visible_buildings, visible_units

from .. import imports, selectors, services
from ..filters import RosterFilter
from ..forms import (
    CorrectionForm, DeclineForm, ImportForm, LinkLoginForm, ServiceCreditForm, StatusForm, VolunteerForm,
)
from ..models import Volunteer
from .common import back_to, page_of

# What a volunteer's history line says for each recorded action.
EVENT_LABELS = {
    "applied": _("Registered online"),
    "added": _("Added by staff"),
    "imported": _("Imported from a roster"),
    "approved": _("Application approved"),
    "declined": _("Application declined"),
    "updated": _("Details changed"),
    "status_active": _("Active again"),
    "status_paused": _("Paused"),
    "status_left": _("Left the corps"),
    "login_linked": _("Login account linked"),
    "login_unlinked": _("Login account removed"),
    "phone_revealed": _("Full phone number opened"),
    "joined_team": _("Joined a team"),
    "left_team": _("Left a team"),
    "leads_team": _("Became team leader"),
    "hours_corrected": _("Hours corrected"),
    "building_assigned": _("Answers for a building"),
    "building_released": _("No longer answers for a building"),
}

TEMPLATE_FILES = {
    "csv": ("text/csv; charset=utf-8", imports.template_csv),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", imports.template_xlsx),
}


@require_safe
@login_required
@permission_required("volunteers.view_volunteer", raise_exception=True)
def roster(request: HttpRequest) -> HttpResponse:
    roster_filter = RosterFilter(request.GET or None, queryset=selectors.visible_volunteers(request.user), request=request)
    rows = selectors.roster_rows(roster_filter.qs.order_by("unit_path", "name", "pk"))
    page = page_of(request, rows)
    return render(request, "volunteers/roster.html", {"filter": roster_filter, "page": page})


@require_safe
@login_required
@permission_required("volunteers.view_volunteer", raise_exception=True)
def applications(request: HttpRequest) -> HttpResponse:
    # An application anonymised after years undecided waits for nothing any more.
    waiting = selectors.visible_volunteers(request.user).filter(status=Volunteer.Status.APPLIED, anonymised_at__isnull=True)
    page = page_of(request, selectors.roster_rows(waiting.order_by("applied_at", "pk")))
    return render(request, "volunteers/applications.html", {"page": page, "decline_form": DeclineForm()})


def _volunteer(request: HttpRequest, pk: int) -> Volunteer:
    return get_object_or_404(selectors.visible_volunteers(request.user), pk=pk)


@require_safe
@login_required
@permission_required("volunteers.view_volunteer", raise_exception=True)
def volunteer(request: HttpRequest, pk: int) -> HttpResponse:
    return render_volunteer(request, _volunteer(request, pk))


def render_volunteer(request: HttpRequest, volunteer: Volunteer, *, revealed: str = "", forms: dict | None = None,
                     status: int = 200) -> HttpResponse:
    units = visible_units(request.user).order_by("path")
    context = {
        "volunteer": volunteer,
        "revealed_phone": revealed,
        "skills": volunteer.skills.order_by("sort_order", "code"),
        "memberships": volunteer.memberships.select_related("team", "team__unit").order_by("team__name"),
        "buildings": volunteer.building_assignments.filter(ended_on__isnull=True).select_related("building"),
        "totals": selectors.volunteer_totals(volunteer),
        "months": selectors.totals_by_month(volunteer.hours.all()),
        "ledger": selectors.ledger_of(volunteer),
        "signups": volunteer.signups.select_related("activity", "activity__unit").order_by("-signed_up_at")[:20],
        "tasks": volunteer.tasks.select_related("case").order_by("-assigned_at")[:20],
        "suggestions": volunteer.suggestions.select_related("case").order_by("-submitted_at")[:20],
        "events": _labelled(volunteer.events.select_related("actor").order_by("-at", "-pk")[:50]),
        "decline_form": DeclineForm(),
        "status_form": StatusForm(),
        "login_form": LinkLoginForm(initial={"username": volunteer.user.username if volunteer.user else ""}),
        "credit_form": ServiceCreditForm(units=units, initial={"unit": volunteer.unit_id}),
        "correction_form": CorrectionForm(),
        **(forms or {}),
    }
    return render(request, "volunteers/volunteer_detail.html", context, status=status)


def _labelled(events) -> list:
    events = list(events)
    for event in events:
        event.label = EVENT_LABELS.get(event.action, event.action)
    return events


def _volunteer_form(request: HttpRequest, data=None, *, instance: Volunteer | None = None) -> VolunteerForm:
    user = request.user
    teams = None if instance is not None else selectors.visible_teams(user).filter(active=True).order_by("name")
    initial = {}
    if instance is not None:
        initial = {name: getattr(instance, name) for name in ("name", "unit", "building", "party_member", "party_since",
                                                             "employer_party_org", "reported_on", "availability", "note")}
        initial["skills"] = list(instance.skills.all())
    return VolunteerForm(
        data, initial=initial, instance=instance, teams=teams,
        units=visible_units(user).order_by("path"),
        buildings=visible_buildings(user).order_by("unit__path", "name"),
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
@permission_required("volunteers.add_volunteer", raise_exception=True)
def add(request: HttpRequest) -> HttpResponse:
    form = _volunteer_form(request, request.POST or None)
    done = submit(
        request, form,
        lambda: services.add_volunteer(by=request.user, teams=form.cleaned_data["teams"], **form.service_fields()),
        lambda volunteer: _("%(name)s was added to the roster.") % {"name": volunteer.name},
        lambda volunteer: volunteer,
    )
    return done or render(request, "volunteers/volunteer_form.html", {"form": form, "volunteer": None})


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
@permission_required("volunteers.change_volunteer", raise_exception=True)
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    volunteer = _volunteer(request, pk)
    if volunteer.is_anonymised:
        messages.error(request, services.ANONYMISED)
        return redirect(volunteer)
    form = _volunteer_form(request, request.POST or None, instance=volunteer)
    done = submit(
        request, form, lambda: services.update_volunteer(volunteer=volunteer, by=request.user, **form.service_fields()),
        _("The volunteer's details were saved."), volunteer,
    )
    return done or render(request, "volunteers/volunteer_form.html", {"form": form, "volunteer": volunteer})


def _act(request: HttpRequest, volunteer: Volunteer, call, success) -> HttpResponse:
    """Call one service; a refusal becomes a message; back to where the button was."""
    return submit(request, None, call, success, back_to(request, volunteer.get_absolute_url()))


@require_POST
@login_required
@permission_required("volunteers.approve_volunteer", raise_exception=True)
def approve(request: HttpRequest, pk: int) -> HttpResponse:
    volunteer = _volunteer(request, pk)
    return _act(
        request, volunteer, lambda: services.approve(volunteer=volunteer, by=request.user),
        _("%(name)s is now an active volunteer.") % {"name": volunteer.name},
    )


@require_POST
@login_required
@permission_required("volunteers.approve_volunteer", raise_exception=True)
def decline(request: HttpRequest, pk: int) -> HttpResponse:
    volunteer = _volunteer(request, pk)
    form = DeclineForm(request.POST)
    if not form.is_valid():
        return render_volunteer(request, volunteer, forms={"decline_form": form}, status=400)
    return _act(
        request, volunteer,
        lambda: services.decline(volunteer=volunteer, by=request.user, reason=form.cleaned_data["reason"]),
        _("The application of %(name)s was declined.") % {"name": volunteer.name},
    )


@require_POST
@login_required
@permission_required("volunteers.change_volunteer", raise_exception=True)
def change_status(request: HttpRequest, pk: int) -> HttpResponse:
    volunteer = _volunteer(request, pk)
    form = StatusForm(request.POST)
    if not form.is_valid():
        return render_volunteer(request, volunteer, forms={"status_form": form}, status=400)
    data = form.cleaned_data
    return _act(
        request, volunteer,
        lambda: services.set_status(volunteer=volunteer, to=data["to"], by=request.user, note=data["note"]),
        _("The status was changed."),
    )


@require_POST
@login_required
@permission_required("volunteers.change_volunteer", raise_exception=True)
def link_login(request: HttpRequest, pk: int) -> HttpResponse:
    volunteer = _volunteer(request, pk)
    form = LinkLoginForm(request.POST)
    done = submit(
        request, form,
        lambda: services.link_login(volunteer=volunteer, username=form.cleaned_data["username"], by=request.user),
        _("The login account was saved."), volunteer,
    )
    return done or render_volunteer(request, volunteer, forms={"login_form": form}, status=400)


@require_POST
@login_required
@permission_required("volunteers.change_volunteer", raise_exception=True)
def reveal_phone(request: HttpRequest, pk: int) -> HttpResponse:
    volunteer = _volunteer(request, pk)
    try:
        phone = services.reveal_phone(volunteer=volunteer, by=request.user)
    except services.IllegalTransition as error:
        raise PermissionDenied(error.message) from None
    return render_volunteer(request, volunteer, revealed=phone)  # shown once, never kept in the session


@require_POST
@login_required
@permission_required("volunteers.record_hours", raise_exception=True)
def credit(request: HttpRequest, pk: int) -> HttpResponse:
    volunteer = _volunteer(request, pk)
    form = ServiceCreditForm(request.POST, units=visible_units(request.user).order_by("path"))
    done = submit(
        request, form, lambda: services.credit_service(volunteer=volunteer, by=request.user, **form.cleaned_data),
        _("The hours were credited."), volunteer,
    )
    return done or render_volunteer(request, volunteer, forms={"credit_form": form}, status=400)


@require_POST
@login_required
@permission_required("volunteers.correct_hours", raise_exception=True)
def correct(request: HttpRequest, pk: int) -> HttpResponse:
    entry = get_object_or_404(selectors.visible_hours(request.user).select_related("volunteer"), pk=pk)
    volunteer = entry.volunteer
    form = CorrectionForm(request.POST)
    if done := submit(
        request, form, lambda: services.correct(entry=entry, by=request.user, **form.cleaned_data),
        _("A correction was added to the ledger."), volunteer, refused_to=volunteer,
    ):
        return done
    form.entry_pk = entry.pk
    return render_volunteer(request, volunteer, forms={"correction_form": form}, status=400)


# --- import -------------------------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
@permission_required("volunteers.import_volunteers", raise_exception=True)
def import_roster(request: HttpRequest) -> HttpResponse:
    form = ImportForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        try:
            result = imports.import_file(form.cleaned_data["file"], user=request.user, dry_run=form.cleaned_data["dry_run"])
        except imports.ImportFileError as error:
            form.add_error("file", error.message)
        else:
            _report(request, result)
    context = {"form": form, "result": result, "columns": imports.COLUMNS}
    return render(request, "volunteers/import.html", context)


def _report(request: HttpRequest, result: imports.ImportResult) -> None:
    counts = {"imported": len(result.rows), "skipped": len(result.skipped), "errors": len(result.errors)}
    if result.errors:
        messages.error(request, _("Nothing was imported: %(errors)d problems in the file.") % counts)
    elif result.committed:
        messages.success(request, _("%(imported)d volunteers imported, %(skipped)d already on a roster.") % counts)
    else:
        messages.info(
            request, _("The file is fine: %(imported)d volunteers would be imported, %(skipped)d are already on a roster.")
            % counts,
        )


@require_safe
@login_required
@permission_required("volunteers.import_volunteers", raise_exception=True)
def import_template(request: HttpRequest, fmt: str) -> HttpResponse:
    content_type, build = TEMPLATE_FILES[fmt]
    response = HttpResponse(build(), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="volunteer-roster-template.{fmt}"'
    return response
