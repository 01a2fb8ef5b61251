"""The transition table, checked in one place: which state a move starts from, the
permission it needs and where in the tree the actor must sit (like django-oscar's
``set_status``, but with the actor in the rule)."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from communities.selectors import posts_of, subtree_paths

from ..models import Case, CoHandling, ExtensionRequest
from communities.models import GRANTS_ONLY_ROLES

from .. import selectors
from ..selectors import visible_cases

S = Case.Status
OPEN_HANDLING = frozenset({S.ACCEPTED, S.CONTACTED, S.IN_PROGRESS})
NOT_FINISHED = frozenset({S.SUBMITTED, S.DISPATCHED, S.RETURNED, *OPEN_HANDLING})


class IllegalTransition(Exception):
    """A move the rules refuse; ``message`` is translated and can be shown to the user."""

    def __init__(self, message) -> None:
        super().__init__(str(message))
        self.message = message


# Where the actor must sit, besides holding the permission:
#   "tree"       the case's handling unit is in the actor's subtree
#   "dispatcher" the case's dispatching unit is in the actor's subtree (the tier that dispatched)
#   "lead"       the actor's post is in the handling unit's subtree (or a guardian handle_case grant)
#   "handler"    "lead", or the actor's post is in a co-handling unit's subtree
#   "visible"    the actor sees the case (visible_cases)
#   "resident"   no staff actor needed
@dataclass(frozen=True)
class Rule:
    sources: frozenset[str]
    target: str | None  # None: the status does not change
    perm: str | None
    reach: str
    refusal: str  # shown when the case's status does not allow the move


def _rule(sources, target, perm, reach, refusal) -> Rule:
    return Rule(frozenset(sources), target, perm, reach, refusal)


TRANSITIONS: dict[str, Rule] = {
    "dispatch": _rule(
        {S.SUBMITTED, S.RETURNED, S.DISPATCHED}, S.DISPATCHED, "cases.dispatch_case", "tree",
        _("Only a new, returned or not yet accepted case can be dispatched; this one is %(status)s."),
    ),
    "reassign": _rule(
        {S.DISPATCHED, *OPEN_HANDLING}, S.DISPATCHED, "cases.dispatch_case", "dispatcher",
        _("Only a case being handled can be reassigned; this one is %(status)s."),
    ),
    "add_co_handler": _rule(
        NOT_FINISHED, None, "cases.dispatch_case", "tree",
        _("A co-handling unit can only be added while the case is open; this one is %(status)s."),
    ),
    "accept": _rule(
        {S.DISPATCHED}, S.ACCEPTED, "cases.handle_case", "lead",
        _("Only a dispatched case can be accepted; this one is %(status)s."),
    ),
    "return": _rule(
        {S.DISPATCHED, *OPEN_HANDLING}, S.RETURNED, "cases.handle_case", "lead",
        _("Only a case dispatched to your unit can be returned; this one is %(status)s."),
    ),
    "contact": _rule(
        OPEN_HANDLING, None, "cases.handle_case", "lead",
        _("Accept the case before recording contact with the caller; it is %(status)s."),
    ),
    "progress": _rule(
        OPEN_HANDLING, None, "cases.handle_case", "handler",
        _("Progress can only be added to a case being handled; this one is %(status)s."),
    ),
    "request_extension": _rule(
        OPEN_HANDLING, None, "cases.handle_case", "lead",
        _("An extension can only be requested while the case is being handled; it is %(status)s."),
    ),
    "decide_extension": _rule(
        NOT_FINISHED, None, "cases.decide_extension", "dispatcher",
        _("The case is %(status)s; its extension can no longer be decided."),
    ),
    "resolve": _rule(
        {S.CONTACTED, S.IN_PROGRESS}, S.RESOLVED, "cases.handle_case", "lead",
        _("Contact the caller before resolving the case; it is %(status)s."),
    ),
    "close": _rule(
        {S.RESOLVED, S.RETURNED}, S.CLOSED, "cases.dispatch_case", "dispatcher",
        _("Only a resolved or returned case can be closed; this one is %(status)s."),
    ),
    "supervise": _rule(
        NOT_FINISHED | {S.RESOLVED}, None, "cases.supervise_case", "visible",
        _("A %(status)s case cannot be put under supervision."),
    ),
    "lift_supervision": _rule(
        set(S.values), None, "cases.supervise_case", "visible", _("The case is %(status)s."),
    ),
    "rate": _rule(
        {S.RESOLVED, S.CLOSED}, None, None, "resident",
        _("Only a resolved case can be rated; this one is %(status)s."),
    ),
    "record_return_visit": _rule(
        {S.RESOLVED, S.CLOSED}, None, "cases.record_return_visit", "visible",
        _("Only a resolved case can be rated; this one is %(status)s."),
    ),
    "add_information": _rule(
        set(S.values) - {S.MERGED}, None, None, "resident",
        _("Information cannot be added to a %(status)s case."),
    ),
    "merge": _rule(
        NOT_FINISHED | {S.RESOLVED}, S.MERGED, "cases.dispatch_case", "tree",
        _("A %(status)s case cannot be merged."),
    ),
    "merge_duplicates": _rule(
        NOT_FINISHED | {S.RESOLVED}, None, "cases.dispatch_case", "tree",
        _("Duplicates can only be merged into an open case; this one is %(status)s."),
    ),
    "exclude_from_rates": _rule(
        set(S.values) - {S.MERGED}, None, "cases.dispatch_case", "dispatcher",
        _("A %(status)s case cannot be excluded from the rates."),
    ),
    "reveal_phone": _rule(
        set(S.values), None, "cases.reveal_phone", "lead", _("The case is %(status)s."),
    ),
}

REACH_REFUSALS = {
    "tree": _("This case is not in your part of the tree."),
    "dispatcher": _("Only the unit that dispatched this case can do that."),
    "lead": _("Only the handling unit can do that."),
    "handler": _("Only the handling or a co-handling unit can do that."),
    "visible": _("You cannot see this case."),
}


def display_name(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def within(path: str, user) -> bool:
    """Is the unit at ``path`` in the user's subtrees?"""
    roots = subtree_paths(user)
    return roots is None or any(path.startswith(root) for root in roots)


def _posted_under(paths: list[str], user) -> bool:
    """Does the user hold a post (one that acts in the tree) on or under any of the units at ``paths``?"""
    units = [post.unit.path for post in posts_of(user) if post.role not in GRANTS_ONLY_ROLES]
    return any(unit.startswith(p) for unit in units for p in paths)


def _has_reach(case: Case, by, reach: str) -> bool:
    if by.is_superuser or reach == "resident":
        return True
    if reach == "visible":
        # Remembered on the instance: a case page asks for several actions at once.
        seen = case.__dict__.setdefault("_visible_to", {})
        if by.pk not in seen:
            seen[by.pk] = visible_cases(by).filter(pk=case.pk).exists()
        return seen[by.pk]
    if reach == "tree":
        return within(case.unit_path, by)
    if reach == "dispatcher":
        dispatching = case.dispatching_unit.path if case.dispatching_unit_id else case.unit_path
        return within(dispatching, by)
    if _posted_under([case.unit_path], by):
        return True
    if by.has_perm("cases.handle_case", case):  # a department summoned to this one case
        return _has_reach(case, by, "visible")
    if reach == "handler":
        co_paths = list(CoHandling.objects.filter(case=case).values_list("unit_path", flat=True))
        return _posted_under(co_paths, by)
    return False


def ensure(case: Case, action: str, *, by=None) -> Rule:
    """Raise IllegalTransition unless ``by`` may do ``action`` to ``case`` now."""
    rule = TRANSITIONS[action]
    if rule.reach != "resident" or by is not None:
        if by is None or not by.is_authenticated or not by.is_active:
            raise IllegalTransition(_("You need to be signed in to do that."))
        if rule.perm and not by.has_perm(rule.perm):
            raise IllegalTransition(_("Your role does not allow you to do that."))
    if case.status not in rule.sources:
        if action == "accept" and case.handler_id:
            raise IllegalTransition(
                _("This case has already been accepted by %(name)s.") % {"name": display_name(case.handler)}
            )
        raise IllegalTransition(rule.refusal % {"status": case.get_status_display()})
    if by is not None and rule.reach != "resident" and not _has_reach(case, by, rule.reach):
        raise IllegalTransition(REACH_REFUSALS[rule.reach])
    return rule


def allowed_actions(case: Case, user) -> set[str]:
    """The actions ``user`` may take on ``case`` now (for showing only the buttons that work)."""
    allowed = set()
    for action, rule in TRANSITIONS.items():
        if rule.reach == "resident":
            continue
        try:
            ensure(case, action, by=user)
        except IllegalTransition:
            continue
        allowed.add(action)
    if "reveal_phone" in allowed and not (user.is_superuser or case.handler_id == user.pk):
        allowed.discard("reveal_phone")
    if "decide_extension" in allowed and not case.extensions.filter(decision=ExtensionRequest.Decision.PENDING).exists():
        allowed.discard("decide_extension")
    if "lift_supervision" in allowed and not case.supervisions.filter(lifted_at__isnull=True).exists():
        allowed.discard("lift_supervision")
    if "request_extension" in allowed and case.extensions.filter(decision=ExtensionRequest.Decision.PENDING).exists():
        allowed.discard("request_extension")
    if case.status == S.MERGED and _may_visit_merged_caller(case, user):
        allowed.add("record_return_visit")
    return allowed


def _may_visit_merged_caller(case: Case, user) -> bool:
    """A merged case's caller gets the return visit of its lead's result (``services.rate`` on the merged case)."""
    lead = selectors.lead_of(case)
    if lead.pk == case.pk:
        return False
    try:
        ensure(lead, "record_return_visit", by=user)
    except IllegalTransition:
        return False
    return True
