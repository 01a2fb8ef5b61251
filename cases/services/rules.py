"""The transition table, checked in one place: which state a move starts from, the
permission it needs and where in the tree the actor must sit (like django-oscar's
``set_status``, but with the actor in the rule)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from communities import names
from communities.selectors import in_subtree, posts_of

from ..models import Case, CoHandling, ExtensionRequest
from ..refusals import IllegalTransition
from communities.models import GRANTS_ONLY_ROLES, path_within

from .. import selectors
from ..selectors import visible_cases

S = Case.Status


# Where the actor must sit, besides holding the permission:
#   "tree"       the case's handling unit is in the actor's subtree
#   "dispatcher" the case's dispatching unit is in the actor's subtree (the tier that dispatched)
#   "lead"       the actor's post is in the handling unit's subtree, outside the co-handling units
#                in it (or a guardian handle_case grant)
#   "handler"    "lead", or the actor's post is in a co-handling unit's subtree
#   "co_handler" the actor's post is in the subtree of a co-handling unit whose part is not done
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
        {*Case.TO_DISPATCH, S.DISPATCHED}, S.DISPATCHED, "cases.dispatch_case", "tree",
        _("Only a new, returned or not yet accepted case can be dispatched; this one is %(status)s."),
    ),
    "reassign": _rule(
        {S.DISPATCHED, *Case.HANDLING}, S.DISPATCHED, "cases.dispatch_case", "dispatcher",
        _("Only a case being handled can be reassigned; this one is %(status)s."),
    ),
    "add_co_handler": _rule(
        Case.OPEN, None, "cases.dispatch_case", "tree",
        _("A co-handling unit can only be added while the case is open; this one is %(status)s."),
    ),
    "accept": _rule(
        {S.DISPATCHED}, S.ACCEPTED, "cases.handle_case", "lead",
        _("Only a dispatched case can be accepted; this one is %(status)s."),
    ),
    "return": _rule(
        {S.DISPATCHED, *Case.HANDLING}, S.RETURNED, "cases.handle_case", "lead",
        _("Only a case dispatched to your unit can be returned; this one is %(status)s."),
    ),
    "contact": _rule(
        Case.HANDLING, None, "cases.handle_case", "handler",
        _("Accept the case before recording contact with the caller; it is %(status)s."),
    ),
    "finish_co_handling": _rule(
        {S.DISPATCHED, *Case.HANDLING}, None, "cases.handle_case", "co_handler",
        _("A co-handling part can only be reported done while the case is being handled; it is %(status)s."),
    ),
    "progress": _rule(
        Case.HANDLING, None, "cases.handle_case", "handler",
        _("Progress can only be added to a case being handled; this one is %(status)s."),
    ),
    "request_extension": _rule(
        Case.HANDLING, None, "cases.handle_case", "lead",
        _("An extension can only be requested while the case is being handled; it is %(status)s."),
    ),
    "decide_extension": _rule(
        Case.OPEN, None, "cases.decide_extension", "dispatcher",
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
        Case.NOT_CLOSED, None, "cases.supervise_case", "visible",
        _("A %(status)s case cannot be put under supervision."),
    ),
    "lift_supervision": _rule(
        set(S.values), None, "cases.supervise_case", "visible", _("The case is %(status)s."),
    ),
    "rate": _rule(
        Case.ANSWERED, None, None, "resident",
        _("Only a resolved case can be rated; this one is %(status)s."),
    ),
    "record_return_visit": _rule(
        Case.ANSWERED, None, "cases.record_return_visit", "visible",
        _("Only a resolved case can be rated; this one is %(status)s."),
    ),
    "add_information": _rule(
        set(S.values) - {S.MERGED}, None, None, "resident",
        _("Information cannot be added to a %(status)s case."),
    ),
    "merge": _rule(
        Case.NOT_CLOSED, S.MERGED, "cases.dispatch_case", "tree",
        _("A %(status)s case cannot be merged."),
    ),
    "merge_duplicates": _rule(
        Case.NOT_CLOSED, None, "cases.dispatch_case", "tree",
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
    "co_handler": _("Only a co-handling unit whose part is not yet done can report it done."),
    "visible": _("You cannot see this case."),
}
CO_HANDLER_REFUSAL = _(
    "Your unit co-handles this case: record your contact, progress and your part done. "
    "Only the handling unit (%(unit)s) can do this."
)


def may_take_in(user) -> bool:
    """Who may register a request (the staff intake page, a suggestion turned into a case, the
    API and Open311 posts by staff, the "New case" link): a dispatcher or a handler."""
    return user.has_perm("cases.dispatch_case") or user.has_perm("cases.handle_case")


def display_name(user) -> str:
    return "" if user is None else names.display_name(user)


def remember_co_handlings(case: Case, rows: list[CoHandling]) -> None:
    """Rows a page has read already (with more than this needs): ``co_handlings_of`` returns them."""
    case.__dict__["_co_handlings"] = rows


def co_handlings_of(case: Case) -> list[CoHandling]:
    """The case's co-handling units, read once per case instance (a page asks for several actions)."""
    if "_co_handlings" not in case.__dict__:
        case.__dict__["_co_handlings"] = list(
            CoHandling.objects.filter(case_id=case.pk).only("pk", "unit_id", "unit_path", "done_at")
        )
    return case.__dict__["_co_handlings"]


def _acting_paths(user) -> list[str]:
    return [post.unit.path for post in posts_of(user) if post.role not in GRANTS_ONLY_ROLES]


def is_lead(case: Case, user) -> bool:
    """Does ``user`` hold a post of the handling unit (主办): in its subtree, but not through a
    co-handling unit (协办) that lies in that subtree (a community co-handling its street's case)?"""
    inside = [path for path in _acting_paths(user) if path_within(path, case.unit_path)]
    if not inside:
        return False
    # Strictly inside: a co-handling row left on the unit the case was later passed to is no 协办 any more.
    inner_co = [
        co.unit_path for co in co_handlings_of(case)
        if path_within(co.unit_path, case.unit_path) and co.unit_id != case.unit_id
    ]
    return any(not any(path_within(path, co) for co in inner_co) for path in inside)


def own_co_handlings(case: Case, user, *, open_only: bool = True) -> list[CoHandling]:
    """The co-handling rows of ``case`` whose unit's subtree holds one of ``user``'s posts
    (not a row left on the unit that now handles the case)."""
    paths = _acting_paths(user)
    return [
        co for co in co_handlings_of(case)
        if co.unit_id != case.unit_id and (co.done_at is None or not open_only)
        and any(path_within(path, co.unit_path) for path in paths)
    ]


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
        return in_subtree(by, case.unit_path)
    if reach == "dispatcher":
        dispatching = case.dispatching_unit.path if case.dispatching_unit_id else case.unit_path
        return in_subtree(by, dispatching)
    if reach == "co_handler":
        return bool(own_co_handlings(case, by))
    if is_lead(case, by):
        return True
    if by.has_perm("cases.handle_case", case):  # a department summoned to this one case
        return _has_reach(case, by, "visible")
    if reach == "handler":
        return bool(own_co_handlings(case, by, open_only=False))
    return False


def acts_as_lead(case: Case, by) -> bool:
    """May ``by`` act for the handling unit (主办), not only as a co-handler (协办)?"""
    return _has_reach(case, by, "lead")


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
        if rule.reach == "lead" and own_co_handlings(case, by, open_only=False):
            raise IllegalTransition(CO_HANDLER_REFUSAL % {"unit": case.unit.name}, about_reach=True)
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
    if "reveal_phone" in allowed and not selectors.can_see_full_phone(user, case):
        allowed.discard("reveal_phone")
    if "decide_extension" in allowed and not _has_pending_extension(case):
        allowed.discard("decide_extension")
    elif "decide_extension" in allowed and _pending_extension_by(case, user):
        allowed.discard("decide_extension")  # nobody decides their own request, whatever posts they hold
    if "lift_supervision" in allowed and not _has_open_supervision(case):
        allowed.discard("lift_supervision")
    if "request_extension" in allowed and _has_pending_extension(case):
        allowed.discard("request_extension")
    if "finish_co_handling" in allowed and not own_co_handlings(case, user):
        allowed.discard("finish_co_handling")  # a superuser passes every reach, but has no part of their own
    if case.status == S.MERGED and _may_visit_merged_caller(case, user):
        allowed.add("record_return_visit")
    return allowed


def pending_extension_q() -> Q:
    return Q(decision=ExtensionRequest.Decision.PENDING)


def open_supervision_q() -> Q:
    return Q(lifted_at__isnull=True)


def _has_pending_extension(case: Case) -> bool:
    # Read with the case where the case page annotated it (``cases.views.case``); never kept on
    # the instance otherwise, as a later request or decision changes it.
    flag = case.__dict__.get("has_pending_extension")
    return case.extensions.filter(pending_extension_q()).exists() if flag is None else flag


def _pending_extension_by(case: Case, user) -> bool:
    """Is the pending extension ``user``'s own request? (``pending_extension_by``: annotated by the case page.)"""
    if "pending_extension_by" in case.__dict__:
        return case.__dict__["pending_extension_by"] == user.pk
    return case.extensions.filter(pending_extension_q(), requested_by=user).exists()


def _has_open_supervision(case: Case) -> bool:
    flag = case.__dict__.get("has_open_supervision")
    return case.supervisions.filter(open_supervision_q()).exists() if flag is None else flag


def known_visible(case: Case, user) -> Case:
    """``case`` was just read through ``visible_cases(user)``: its "visible" reach needs no query."""
    case.__dict__.setdefault("_visible_to", {})[user.pk] = True
    return case


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
