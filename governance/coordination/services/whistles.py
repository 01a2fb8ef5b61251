"""吹哨报到: blow a whistle on a case, the summoned report and commit, both sides rate each other."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cases.models import Case, Notification
from cases.refusals import IllegalTransition, ensure_perm, ensure_within, required
from cases.services import record
from communities import names
from communities.models import Department, PartnerOrganisation, Post, Role, Unit, path_within
from communities.selectors import in_subtree, visible_departments, visible_partners

from .. import groups
from ...models import Summons, Whistle

# A report may be stamped a little ahead of the server clock (a phone's clock), never more.
CLOCK_SKEW = timedelta(minutes=5)


@transaction.atomic
def blow_whistle(
    *, case: Case, unit: Unit, reason: str, description: str, by,
    departments: Iterable[Department] = (), partners: Iterable[PartnerOrganisation] = (),
    report_within: timedelta | None = None,
) -> Whistle:
    """A street or community summons departments and partners to one open case."""
    ensure_perm(by, "governance.add_whistle", _("You may not blow a whistle."))
    if unit.level not in (Unit.Level.STREET, Unit.Level.COMMUNITY):
        raise ValidationError({"unit": _("A whistle is blown by a street or a community.")})
    ensure_within(by, unit, _("You can only blow a whistle for your own street or community."))
    case = Case.objects.select_for_update().get(pk=case.pk)
    if not path_within(case.unit_path, unit.path):
        raise IllegalTransition(_("This case is not handled in %(unit)s.") % {"unit": unit.name})
    if case.status in Case.FINISHED:
        raise IllegalTransition(
            _("A whistle cannot be blown on a case that is %(status)s.") % {"status": case.get_status_display()}
        )
    description = required(description, "description", _("Say what is needed from those summoned."))
    departments, partners = _summoned(by, departments, partners)
    within = _report_within(reason, report_within)
    now = timezone.now()
    whistle = Whistle.objects.create(
        case=case, unit=unit, reason=reason, description=description, report_within=within,
        blown_at=now, report_due_at=now + within, blown_by=by,
    )
    Summons.objects.bulk_create(
        [Summons(whistle=whistle, department=d) for d in departments]
        + [Summons(whistle=whistle, partner=p) for p in partners]
    )
    for department in departments:
        groups.grant_to_department(obj=case, department=department, perm="view_case")
    _notify_liaisons(whistle, departments, actor=by)
    record(
        case, action="whistle_blown", by=by, note=description,
        data={
            "whistle": whistle.pk, "reason": reason, "report_due_at": whistle.report_due_at.isoformat(),
            "summoned": [str(party) for party in [*departments, *partners]],
        },
    )
    return whistle


def _summoned(by, departments, partners) -> tuple[list[Department], list[PartnerOrganisation]]:
    departments, partners = list(dict.fromkeys(departments)), list(dict.fromkeys(partners))
    if not departments and not partners:
        raise ValidationError({"departments": _("Summon at least one department or partner.")})
    reachable = set(visible_departments(by).filter(pk__in=[d.pk for d in departments]).values_list("pk", flat=True))
    if len(reachable) != len(departments):
        raise ValidationError({"departments": _("A department you cannot call on was chosen.")})
    reachable = set(visible_partners(by).filter(pk__in=[p.pk for p in partners]).values_list("pk", flat=True))
    if len(reachable) != len(partners):
        raise ValidationError({"partners": _("A partner organisation you cannot call on was chosen.")})
    return departments, partners


def _report_within(reason: str, within: timedelta | None) -> timedelta:
    if reason not in Whistle.Reason.values:
        raise ValidationError({"reason": _("Choose why the whistle is blown.")})
    within = within if within is not None else Whistle.DEFAULT_REPORT_WITHIN[reason]
    if within <= timedelta(0):
        raise ValidationError({"report_within": _("The time to report must be positive.")})
    return within


def _notify_liaisons(whistle: Whistle, departments: list[Department], *, actor) -> None:
    liaisons = Post.objects.active().filter(role=Role.DEPARTMENT_LIAISON, department__in=departments)
    due = timezone.localtime(whistle.report_due_at).strftime("%Y-%m-%d %H:%M")
    message = gettext("Whistle: report by %(due)s — %(text)s") % {"due": due, "text": whistle.description}
    users = sorted(set(liaisons.values_list("user_id", flat=True)) - {actor.pk})
    Notification.objects.bulk_create(
        [Notification(user_id=uid, case=whistle.case, kind=Notification.Kind.DISPATCHED, message=message[:200])
         for uid in users]
    )


def _lock(summons: Summons) -> Summons:
    return (
        Summons.objects.select_for_update(of=("self",))
        .select_related("whistle", "whistle__case", "whistle__unit", "department", "partner")
        .get(pk=summons.pk)
    )


def speaks_for(by, summons: Summons) -> bool:
    """The user is a liaison of the summoned department (and may report for it)."""
    return bool(summons.department_id) and summons.department_id in groups.liaison_departments(by) and by.has_perm(
        "governance.report_summons"
    )


def records_for_whistle(by, whistle: Whistle) -> bool:
    """The whistle's own unit may record reports on behalf of those summoned (and rate them)."""
    return by.has_perm("governance.add_whistle") and in_subtree(by, whistle.unit.path)


def may_report(by, summons: Summons) -> bool:
    return speaks_for(by, summons) or records_for_whistle(by, summons.whistle)


def may_assess(by, whistle: Whistle) -> bool:
    return by.has_perm("governance.assess_response") and in_subtree(by, whistle.unit.path)


def _ensure_may_report(by, summons: Summons) -> None:
    if not may_report(by, summons):
        raise IllegalTransition(_("Only the summoned department's liaison or the whistle's unit can record this."))


def _ensure_case_open(summons: Summons) -> Case:
    case = summons.whistle.case
    if case.status in Case.FINISHED:
        raise IllegalTransition(
            _("The case is %(status)s: the summons has ended.") % {"status": case.get_status_display()}
        )
    return case


@transaction.atomic
def report(
    *, summons: Summons, by, presence: str, reporter_name: str = "", commitment: str = "", at=None,
) -> Summons:
    """报到: the summoned party checks in — who came, when, on site or remotely, what it will do."""
    summons = _lock(summons)
    _ensure_may_report(by, summons)
    case = _ensure_case_open(summons)
    if presence not in Summons.Presence.values:
        raise ValidationError({"presence": _("Say whether they came on site or answered remotely.")})
    now = timezone.now()
    at = at or now
    if at > now + CLOCK_SKEW:
        raise ValidationError({"at": _("A report cannot be in the future.")})
    if at < summons.whistle.blown_at:
        raise ValidationError({"at": _("A report cannot come before the whistle.")})
    reporter_name = (reporter_name or "").strip() or names.display_name(by)
    updated = Summons.objects.filter(pk=summons.pk, reported_at__isnull=True).update(
        reported_at=at, reported_by=by, reporter_name=reporter_name, presence=presence,
        commitment=(commitment or "").strip(),
    )
    if updated != 1:
        raise IllegalTransition(_("%(party)s has already reported.") % {"party": summons.party})
    summons.refresh_from_db()
    values = {"party": summons.party, "presence": summons.get_presence_display(), "commitment": summons.commitment}
    note = (
        gettext("%(party)s reported (%(presence)s): %(commitment)s") % values
        if summons.commitment else gettext("%(party)s reported (%(presence)s).") % values
    )
    record(
        case, action="whistle_reported", by=by, note=note,
        data={"whistle": summons.whistle_id, "summons": summons.pk, "late": summons.is_late(), "presence": presence},
    )
    return summons


@transaction.atomic
def update_commitment(*, summons: Summons, by, commitment: str) -> Summons:
    """The summoned party says what it is doing; it stays on the case until the case is finished."""
    summons = _lock(summons)
    _ensure_may_report(by, summons)
    case = _ensure_case_open(summons)
    if summons.reported_at is None:
        raise IllegalTransition(_("Report first; then say what you are doing."))
    commitment = required(commitment, "commitment", _("Say what will be done."))
    Summons.objects.filter(pk=summons.pk).update(commitment=commitment)
    summons.commitment = commitment
    record(
        case, action="whistle_progress", by=by, note=f"{summons.party}: {commitment}",
        data={"whistle": summons.whistle_id, "summons": summons.pk},
    )
    return summons


@transaction.atomic
def rate_response(*, summons: Summons, by, rating: int, comment: str = "") -> Summons:
    """双考核, one way: the whistle's unit rates how the summoned party responded (1–5), once."""
    summons = _lock(summons)
    if not may_assess(by, summons.whistle):
        raise IllegalTransition(_("Only the unit that blew the whistle rates the responses."))
    if summons.reported_at is None and not summons.is_missing():
        raise IllegalTransition(_("Wait until they report or the time to report has passed."))
    if rating not in range(1, 6):
        raise ValidationError({"rating": _("Rate from 1 to 5.")})
    updated = Summons.objects.filter(pk=summons.pk, response_rating__isnull=True).update(
        response_rating=rating, response_comment=(comment or "").strip(),
        response_rated_by=by, response_rated_at=timezone.now(),
    )
    if updated != 1:
        raise IllegalTransition(_("The response of %(party)s has already been rated.") % {"party": summons.party})
    summons.refresh_from_db()
    record(
        summons.whistle.case, action="whistle_response_rated", by=by,
        note=f"{summons.party}: {rating}/5 {summons.response_comment}".strip(),
        data={"whistle": summons.whistle_id, "summons": summons.pk, "rating": rating},
    )
    return summons


@transaction.atomic
def rate_justification(*, summons: Summons, by, justification: str, comment: str = "") -> Summons:
    """双考核, the other way: the summoned department says whether the whistle was justified, once."""
    summons = _lock(summons)
    if not speaks_for(by, summons):
        raise IllegalTransition(_("Only the summoned department's liaison rates the whistle."))
    if justification not in Summons.Justification.values:
        raise ValidationError({"justification": _("Choose whether the whistle was justified.")})
    updated = Summons.objects.filter(pk=summons.pk, justification="").update(
        justification=justification, justification_comment=(comment or "").strip(),
        justification_by=by, justification_at=timezone.now(),
    )
    if updated != 1:
        raise IllegalTransition(_("%(party)s has already rated this whistle.") % {"party": summons.party})
    summons.refresh_from_db()
    record(
        summons.whistle.case, action="whistle_justification_rated", by=by,
        note=f"{summons.party}: {summons.get_justification_display()} {summons.justification_comment}".strip(),
        data={"whistle": summons.whistle_id, "summons": summons.pk, "justification": justification},
    )
    return summons
