"""Household consent polls: open over an electorate, one ballot per household, corrections, closing."""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cases.models import Case
from cases.refusals import IllegalTransition, ensure_perm, ensure_within, required
from cases.selectors import visible_cases
from cases.services import record
from communities.models import PATH_SEPARATOR, Building, Household, Unit
from communities.selectors import in_subtree

from .. import selectors
from ...models import Ballot, Elector, Poll

P = Poll.Status
RULE_FIELDS = (*Poll.THRESHOLD_FIELDS, "max_objections")


@transaction.atomic
def open_poll(
    *, title: str, question: str, buildings: Iterable[Building], by, rule: str, opens_on: date,
    closes_on: date, stairwell_numbers: Iterable[int] = (), thresholds: dict | None = None,
    case: Case | None = None, electorate_label: str = "",
) -> Poll:
    """Open a poll; its electorate (households and their areas) is fixed now.

    ``rule`` is a preset (Poll.PRESETS) or ``"custom"`` with ``thresholds`` such as
    ``{"agree_headcount": "2/3", "max_objections": 0}``.
    """
    ensure_perm(by, "governance.add_poll", _("You may not open consent polls."))
    buildings = list(dict.fromkeys(buildings))
    if not buildings:
        raise ValidationError({"buildings": _("Choose the building (or buildings) that vote.")})
    for building in buildings:
        ensure_within(by, building.unit, _("You can only open polls in your own part of the tree."))
    households = _households(buildings, sorted(set(stairwell_numbers)))
    if case is not None and not visible_cases(by).filter(pk=case.pk).exists():
        raise ValidationError({"case": _("You cannot see this case.")})
    poll = Poll(
        title=(title or "").strip(), question=(question or "").strip(), unit=_common_unit(buildings),
        electorate_label=(electorate_label or "").strip() or _label(buildings, stairwell_numbers, len(households)),
        case=case, rule=rule, opens_on=opens_on, closes_on=closes_on, created_by=by, **_rule_fields(rule, thresholds),
    )
    poll.full_clean(exclude=["unit_path", "result"])
    poll.save()
    poll.buildings.set(buildings)
    Elector.objects.bulk_create([
        Elector(poll=poll, household=h, building_id=h.stairwell.building_id, stairwell_number=h.stairwell.number,
                floor=h.floor, room=h.room, area=h.area)
        for h in households
    ])
    if case is not None:
        record(case, action="poll_opened", by=by, public=True,
               note=gettext("Consent poll opened: %(title)s (%(electorate)s), closes on %(date)s")
               % {"title": poll.title, "electorate": poll.electorate_label, "date": closes_on.isoformat()},
               data={"poll": poll.pk})
    return poll


def _households(buildings: list[Building], numbers: list[int]) -> list[Household]:
    households = Household.objects.filter(stairwell__building__in=buildings).select_related("stairwell")
    if numbers:
        if len(buildings) > 1:
            raise ValidationError({"stairwell_numbers": _("Choose units only for a poll of one building.")})
        known = set(buildings[0].stairwells.values_list("number", flat=True))
        if missing := sorted(set(numbers) - known):
            raise ValidationError({"stairwell_numbers": _("The building has no unit %(numbers)s.")
                                   % {"numbers": ", ".join(map(str, missing))}})
        households = households.filter(stairwell__number__in=numbers)
    households = list(households.order_by("stairwell__building_id", "stairwell__number", "floor", "room"))
    if not households:
        raise ValidationError({"buildings": _("No households are registered there: add them to the building first.")})
    return households


def _common_unit(buildings: list[Building]) -> Unit:
    """The deepest unit holding every building (a compound may span grids)."""
    common = os.path.commonprefix([b.unit.path for b in buildings])
    common = common[: common.rfind(PATH_SEPARATOR) + 1]
    return Unit.objects.get(path=common)


def _label(buildings: list[Building], numbers: Iterable[int], count: int) -> str:
    names = "、".join(b.name for b in buildings)
    numbers = sorted(set(numbers))
    if numbers:
        return gettext("%(buildings)s, units %(units)s (%(count)s households)") % {
            "buildings": names, "units": ", ".join(map(str, numbers)), "count": count}
    return gettext("%(buildings)s, all units (%(count)s households)") % {"buildings": names, "count": count}


def _rule_fields(rule: str, thresholds: dict | None) -> dict:
    if rule not in Poll.Rule.values:
        raise ValidationError({"rule": _("Choose a rule.")})
    values = dict(Poll.PRESETS.get(rule, {})) if rule != Poll.Rule.CUSTOM else dict(thresholds or {})
    unknown = set(values) - set(RULE_FIELDS)
    if unknown:
        raise ValueError(f"Unknown thresholds: {sorted(unknown)}")
    fields = {name: (values.get(name) or "") for name in Poll.THRESHOLD_FIELDS}
    fields["max_objections"] = values.get("max_objections")
    return fields


def _lock(poll: Poll) -> Poll:
    return Poll.objects.select_for_update(of=("self",)).select_related("unit", "case").get(pk=poll.pk)


def may_collect(by, poll: Poll) -> bool:
    return by.has_perm("governance.record_ballot") and in_subtree(by, poll.unit.path)


def may_close(by, poll: Poll) -> bool:
    return by.has_perm("governance.close_poll") and in_subtree(by, poll.unit.path)


def _ensure_collector(by, poll: Poll) -> None:
    ensure_perm(by, "governance.record_ballot", _("You may not record ballots."))
    ensure_within(by, poll.unit, _("Only the poll's own unit records its ballots."))


def _ensure_open(poll: Poll, collected_at: datetime) -> None:
    if poll.status != P.OPEN:
        raise IllegalTransition(_("The poll is closed."))
    today = timezone.localdate()
    if today > poll.closes_on:
        raise IllegalTransition(_("The poll closed on %(date)s.") % {"date": poll.closes_on.isoformat()})
    if collected_at > timezone.now():
        raise ValidationError({"collected_at": _("A ballot cannot be collected in the future.")})
    if not poll.opens_on <= timezone.localdate(collected_at) <= poll.closes_on:
        raise ValidationError({"collected_at": _("A ballot is collected between %(opens)s and %(closes)s.")
                               % {"opens": poll.opens_on.isoformat(), "closes": poll.closes_on.isoformat()}})


def _ensure_choice(choice: str, method: str) -> None:
    if choice not in Ballot.Choice.values:
        raise ValidationError({"choice": _("Choose agree, object or abstain.")})
    if method not in Ballot.Method.values:
        raise ValidationError({"method": _("Say how the ballot was collected.")})


def _already_voted(elector: Elector) -> IllegalTransition:
    return IllegalTransition(
        _("Unit %(unit)s, room %(room)s has already voted; correct that ballot instead.")
        % {"unit": elector.stairwell_number, "room": elector.room}
    )


@transaction.atomic
def record_ballot(
    *, poll: Poll, elector: Elector, choice: str, method: str, by, collected_at: datetime | None = None,
    collected_by=None, collector_name: str = "", witness: str = "", signed_by: str = "", note: str = "",
) -> Ballot:
    """A household's ballot: how, by whom, when, witnessed by whom. A second one is refused."""
    poll = _lock(poll)
    _ensure_collector(by, poll)
    collected_at = collected_at or timezone.now()
    _ensure_open(poll, collected_at)
    _ensure_choice(choice, method)
    if elector.poll_id != poll.pk:
        raise ValidationError({"elector": _("That household is not on this poll's electorate.")})
    if Ballot.objects.filter(elector=elector, superseded_at__isnull=True).exists():
        raise _already_voted(elector)
    ballot = Ballot(
        poll=poll, elector=elector, choice=choice, method=method, collected_at=collected_at,
        collected_by=collected_by if collected_by is not None else (None if collector_name else by),
        collector_name=(collector_name or "").strip(), witness=(witness or "").strip(),
        signed_by=(signed_by or "").strip(), note=(note or "").strip(), recorded_by=by,
    )
    try:
        with transaction.atomic():  # two collectors at once: the unique current ballot refuses one
            ballot.save()
    except IntegrityError:
        raise _already_voted(elector) from None
    return ballot


@transaction.atomic
def correct_ballot(
    *, ballot: Ballot, by, choice: str, reason: str, method: str = "", collected_at: datetime | None = None,
    collected_by=None, collector_name: str = "", witness: str = "", signed_by: str = "", note: str = "",
) -> Ballot:
    """Replace a household's current ballot; the old one stays in the history with the reason."""
    poll = _lock(ballot.poll)
    _ensure_collector(by, poll)
    collected_at = collected_at or timezone.now()
    _ensure_open(poll, collected_at)
    method = method or ballot.method
    _ensure_choice(choice, method)
    reason = required(reason, "reason", _("Give the reason for the correction."))
    now = timezone.now()
    if Ballot.objects.filter(pk=ballot.pk, superseded_at__isnull=True).update(superseded_at=now) != 1:
        raise IllegalTransition(_("This ballot has already been corrected; reload the poll."))
    return Ballot.objects.create(
        poll=poll, elector=ballot.elector, choice=choice, method=method, collected_at=collected_at,
        collected_by=collected_by if collected_by is not None else (None if collector_name else by),
        collector_name=(collector_name or "").strip(), witness=(witness or "").strip(),
        signed_by=(signed_by or "").strip(), note=(note or "").strip(), replaces=ballot,
        correction_reason=reason[:200], recorded_by=by,
    )


@transaction.atomic
def close_poll(*, poll: Poll, by) -> Poll:
    """Close after the closing date (or once every household has voted) and freeze the result."""
    poll = _lock(poll)
    ensure_perm(by, "governance.close_poll", _("You may not close consent polls."))
    ensure_within(by, poll.unit, _("Only the poll's own unit closes it."))
    if poll.status != P.OPEN:
        raise IllegalTransition(_("The poll is already closed."))
    outcome = selectors.poll_outcome(poll)
    if timezone.localdate() <= poll.closes_on and outcome.tally.not_reached:
        raise IllegalTransition(
            _("The poll runs until %(date)s and %(count)s households have not voted yet.")
            % {"date": poll.closes_on.isoformat(), "count": outcome.tally.not_reached}
        )
    result = {"tally": outcome.tally.as_json(), "failed": [check.key for check in outcome.failed]}
    now = timezone.now()
    if Poll.objects.filter(pk=poll.pk, status=P.OPEN).update(
        status=P.CLOSED, closed_at=now, closed_by=by, passed=outcome.passed, result=result
    ) != 1:
        raise IllegalTransition(_("The poll is already closed."))
    poll.refresh_from_db()
    if poll.case_id:
        record(poll.case, action="poll_closed", by=by, public=True, note=_closing_note(poll, outcome),
               data={"poll": poll.pk, "passed": outcome.passed})
    return poll


def _closing_note(poll: Poll, outcome) -> str:
    tally = outcome.tally
    verdict = gettext("passed") if outcome.passed else gettext("not passed")
    return gettext("Consent poll %(title)s %(verdict)s: %(agree)s agree, %(object)s object, %(abstain)s abstain, "
              "%(missing)s did not vote, of %(total)s households.") % {
        "title": poll.title, "verdict": verdict, "agree": tally.agree, "object": tally.object,
        "abstain": tally.abstain, "missing": tally.not_reached, "total": tally.electorate,
    }
