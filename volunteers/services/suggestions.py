"""建言献策: volunteers' suggestions, answered by the community or turned into a case."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases import services as case_services
from cases.models import Case, Category
from cases.refusals import IllegalTransition, required
from communities.models import Building

from ..models import Suggestion, Volunteer
from .common import ensure_may, ensure_not_anonymised, ensure_self_or_may, is_self, within_reach

SG = Suggestion.Status


@transaction.atomic
def submit_suggestion(
    *, volunteer: Volunteer, title: str, text: str, by, building: Building | None = None
) -> Suggestion:
    """A volunteer's suggestion, from their own page or written down by staff."""
    ensure_self_or_may(by, volunteer, "volunteers.add_suggestion", volunteer.unit_path)
    ensure_not_anonymised(volunteer)
    title = required(title, "title", _("Give the suggestion a short summary."))
    text = required(text, "text", _("Write the suggestion."))
    if volunteer.status not in (Volunteer.Status.ACTIVE, Volunteer.Status.PAUSED):
        raise ValidationError({"volunteer": _("Only an active volunteer's suggestion can be recorded.")})
    if building is not None and not within_reach(volunteer, building.unit):
        raise ValidationError({"building": _("The building is not in the volunteer's community.")})
    return Suggestion.objects.create(
        volunteer=volunteer, unit_id=volunteer.unit_id, building=building, title=title[:120], text=text,
        submitted_at=timezone.now(), recorded_by=None if is_self(by, volunteer) else by,
    )


def _lock(suggestion: Suggestion) -> Suggestion:
    return Suggestion.objects.select_for_update(of=("self",)).select_related(
        "volunteer", "unit", "building", "building__unit"
    ).get(pk=suggestion.pk)


@transaction.atomic
def answer_suggestion(*, suggestion: Suggestion, answer: str, by) -> Suggestion:
    suggestion = _lock(suggestion)
    ensure_may(by, "volunteers.answer_suggestion", suggestion.unit_path)
    answer = required(answer, "answer", _("Write the answer."))
    now = timezone.now()
    updated = Suggestion.objects.filter(pk=suggestion.pk, answered_at__isnull=True).update(
        answer=answer, answered_at=now, answered_by=by,
        status=SG.CASE if suggestion.case_id else SG.ANSWERED,
    )
    if updated != 1:
        raise IllegalTransition(_("This suggestion has already been answered."))
    suggestion.answer, suggestion.answered_at, suggestion.answered_by = answer, now, by
    suggestion.status = SG.CASE if suggestion.case_id else SG.ANSWERED
    return suggestion


@transaction.atomic
def suggestion_to_case(*, suggestion: Suggestion, category: Category, by, title: str = "") -> Case:
    """Turn a suggestion into a case (a volunteer report) in one step; the two stay linked."""
    suggestion = _lock(suggestion)
    ensure_may(by, "volunteers.answer_suggestion", suggestion.unit_path)
    if not case_services.may_take_in(by):
        raise IllegalTransition(_("Your role cannot register cases."))
    if suggestion.case_id:
        raise IllegalTransition(_("This suggestion is already a case."))
    volunteer = suggestion.volunteer
    ensure_not_anonymised(volunteer)  # the case would carry a placeholder for the caller's phone
    case = case_services.intake(
        source=Case.Source.VOLUNTEER, kind=Case.Kind.SUGGESTION, category=category,
        title=(title or suggestion.title).strip()[:120], description=suggestion.text,
        location_unit=suggestion.unit, building=suggestion.building,
        resident_name=volunteer.name, resident_phone=volunteer.phone, by=by,
    )
    if Suggestion.objects.filter(pk=suggestion.pk, case__isnull=True).update(case=case, status=SG.CASE) != 1:
        raise IllegalTransition(_("This suggestion is already a case."))
    suggestion.case, suggestion.status = case, SG.CASE
    case_services.record(
        case, action="from_suggestion", by=by, note=suggestion.title,
        data={"suggestion": suggestion.pk, "volunteer": volunteer.name},
    )
    return case
