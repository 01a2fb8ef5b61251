"""The catalogue of the case actions: the one list both the case page and the API serve.

For each action: its name (a key of ``services.TRANSITIONS``, whose rule says who may do it
and from which states), its label on the page, its summary in the API docs, the message
after it, and the one service call it makes. ``perform(user, case, data)`` takes the same
``data`` from either side: the page's form and the API's serializer yield the same keys
with the same kinds of values (model instances, not ids or codes).

Presentation stays with each side: the page's forms (``cases.views.actions``), the API's
serializers (``governance.api.actions``); both are keyed by these names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from communities.models import path_within
from communities.selectors import posts_of, unit_choices

from . import services
from .models import Case, ReturnVisit

Perform = Callable[..., object]  # (user, case, data) -> the service's result


@dataclass(frozen=True)
class CaseAction:
    name: str  # a key of services.TRANSITIONS
    label: str  # the page's button
    summary: str  # the API operation's summary
    perform: Perform
    success: str = ""  # the page's message once done
    menu: bool = True  # False: drawn beside its row (an extension, a supervision) or the phone
    danger: bool = False
    reveals_phone: bool = False  # answers with the caller's number, not the case

    @property
    def url_path(self) -> str:
        return self.name.replace("_", "-")

    @property
    def rule(self) -> services.Rule:
        return services.TRANSITIONS[self.name]

    def permitted(self, user) -> bool:
        """The permission of the action's rule (the service checks the rest: state, reach)."""
        return not self.rule.perm or user.has_perm(self.rule.perm)


def supervising_units(user, case: Case) -> list:
    """The units ``user`` may supervise ``case`` on behalf of: where they hold a post, at or above its unit."""
    if user.is_superuser:  # every unit at or above the case's (the form's pickers' list: no query of its own)
        return [unit for unit in unit_choices(user) if path_within(case.unit_path, unit.path)]
    own = {p.unit.pk: p.unit for p in posts_of(user) if path_within(case.unit_path, p.unit.path)}
    return list(own.values())


def _dispatch(user, case, d):
    return services.dispatch(case=case, to_unit=d["to_unit"], by=user, note=d["note"], co_units=d["co_units"])


def _contact(user, case, d):
    return services.record_contact(
        case=case, by=user, method=d["method"], summary=d["summary"], arrangement=d["arrangement"],
        promised_date=d["promised_date"], at=d["at"],
    )


def _progress(user, case, d):
    return services.add_progress(case=case, by=user, note=d["note"], public=d["public"], photos=d["photos"])


def _resolve(user, case, d):
    return services.resolve(case=case, by=user, result=d["result"], nature=d["nature"], resolved_on=d["resolved_on"])


def _request_extension(user, case, d):
    return services.request_extension(case=case, by=user, new_due_at=d["new_due_at"], reason=d["reason"])


def _decide_extension(user, case, d):
    return services.decide_extension(extension=d["extension"], by=user, approve=d["approve"], note=d["note"])


def _return_visit(user, case, d):
    return services.rate(
        case=case, resolved=d["resolved"], satisfaction=d["satisfaction"], channel=ReturnVisit.Channel.PHONE,
        by=user, comment=d["comment"],
    )


def _supervise(user, case, d):
    return services.supervise(case=case, by=user, unit=d["unit"], comment=d["comment"], due_at=d["due_at"])


def _lift_supervision(user, case, d):
    return services.lift_supervision(supervision=d["supervision"], by=user, note=d["note"])


ACTION_LIST = [
    CaseAction(
        "dispatch", _("Dispatch"), "Dispatch (派单) to a handling unit", _dispatch,
        _("The case was dispatched."),
    ),
    CaseAction(
        "accept", _("Accept"), "Accept (接单): the user becomes the handler",
        lambda u, c, d: services.accept(case=c, by=u), _("You accepted the case."),
    ),
    CaseAction(
        "contact", _("Record contact with the caller"), "Record contact with the caller (首问负责制)", _contact,
        _("The contact was recorded."),
    ),
    CaseAction(
        "progress", _("Add a progress note"), "Add a progress note", _progress, _("The progress note was added."),
    ),
    CaseAction(
        "finish_co_handling", _("Report our co-handling part done"),
        "A co-handling unit (协办) reports its own part done",
        lambda u, c, d: services.finish_co_handling(case=c, by=u, note=d["note"]),
        _("Your unit's part is recorded as done."),
    ),
    CaseAction(
        "resolve", _("Resolve"), "Resolve (办结), with the day it was resolved", _resolve,
        _("The case is resolved and waits for the return visit."),
    ),
    CaseAction(
        "request_extension", _("Ask for more time"), "Ask the dispatching unit for more time (延期)",
        _request_extension, _("The extension request was sent to the dispatching unit."),
    ),
    CaseAction(
        "decide_extension", _("Decide"), "Approve or refuse the pending extension", _decide_extension,
        _("The extension request was decided."), menu=False,
    ),
    CaseAction(
        "record_return_visit", _("Record a phone return visit"), "Record a phone return visit (回访)",
        _return_visit, _("The return visit was recorded."),
    ),
    CaseAction(
        "close", _("Close"), "Close", lambda u, c, d: services.close(case=c, by=u, note=d["note"]),
        _("The case is closed."),
    ),
    CaseAction(
        "reassign", _("Reassign"), "Reassign (改派) to another unit",
        lambda u, c, d: services.reassign(case=c, to_unit=d["to_unit"], by=u, note=d["note"]),
        _("The case was reassigned."),
    ),
    CaseAction(
        "add_co_handler", _("Add a co-handling unit"), "Add a co-handling unit (双派)",
        lambda u, c, d: services.add_co_handler(case=c, unit=d["unit"], by=u),
        _("The co-handling unit was added."),
    ),
    CaseAction(
        "supervise", _("Put under supervision"), "Put under supervision (督办)", _supervise,
        _("The case is under supervision."),
    ),
    CaseAction(
        "lift_supervision", _("Lift"), "Lift a supervision", _lift_supervision,
        _("The supervision was lifted."), menu=False,
    ),
    CaseAction(
        "return", _("Return to dispatch"), "Return to the dispatching unit (退单), with the reason",
        lambda u, c, d: services.return_case(case=c, by=u, reason=d["reason"]),
        _("The case was returned to the dispatching unit."), danger=True,
    ),
    CaseAction(
        "merge", _("Merge into another case"), "Merge into another case as a duplicate",
        lambda u, c, d: services.merge(case=c, into=d["into"], by=u, note=d["note"]),
        _("The case was merged as a duplicate."), danger=True,
    ),
    CaseAction(
        "merge_duplicates", _("Merge duplicates into this case"),
        "Merge many duplicates into this case (the lead), all or none",
        lambda u, c, d: services.merge_duplicates(into=c, cases=d["cases"], by=u, note=d["note"]),
        _("The duplicates were merged into this case."),
    ),
    CaseAction(
        "exclude_from_rates", _("Exclude from the rates"), "Exclude from the rates, with the reason",
        lambda u, c, d: services.exclude_from_rates(case=c, by=u, reason=d["reason"]),
        _("The case is excluded from the rates."), danger=True,
    ),
    CaseAction(
        "reveal_phone", _("Show the full number"),
        "The caller's full number (current handler only; a reason once closed; logged)",
        lambda u, c, d: services.reveal_phone(case=c, by=u, reason=d["reason"]), menu=False, reveals_phone=True,
    ),
]
CATALOGUE: dict[str, CaseAction] = {action.name: action for action in ACTION_LIST}
