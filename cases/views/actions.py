"""The actions of the case page: for each, its form and the one service call it makes.

Names are the keys of ``services.TRANSITIONS`` so ``services.allowed_actions`` says
which forms to show, and the same rule refuses a forged POST.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django import forms
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from communities.selectors import posts_of

from .. import forms_staff as f
from .. import selectors, services
from ..models import Case, ExtensionRequest, ReturnVisit
from ..rates import RATE_TZ

Perform = Callable[[HttpRequest, Case, dict], object]


def _no_kwargs(request: HttpRequest, case: Case) -> dict:
    return {}


def _no_initial(case: Case) -> dict:
    return {}


@dataclass(frozen=True)
class Action:
    name: str
    label: str
    form: type[forms.Form]
    perform: Perform
    success: str
    kwargs: Callable[[HttpRequest, Case], dict] = field(default=_no_kwargs)
    initial: Callable[[Case], dict] = field(default=_no_initial)
    menu: bool = True  # False: drawn beside its row (an extension, a supervision) or the phone
    danger: bool = False

    @property
    def url_name(self) -> str:
        return f"cases:{self.name}"

    def bound_form(self, request: HttpRequest, case: Case, units) -> forms.Form:
        kwargs = self.kwargs(request, case)
        if issubclass(self.form, f.UnitsFormMixin):
            kwargs["units"] = units
        return self.form(request.POST, request.FILES, prefix=self.name, **kwargs)

    def blank_form(self, request: HttpRequest, case: Case, units, unit_list) -> forms.Form:
        kwargs = self.kwargs(request, case)
        if issubclass(self.form, f.UnitsFormMixin):
            kwargs.update(units=units, unit_list=unit_list)
        return self.form(prefix=self.name, initial=self.initial(case), **kwargs)


def _case(request: HttpRequest, case: Case) -> dict:
    return {"case": case}


def _other_cases(request: HttpRequest, case: Case) -> dict:
    return {"cases": selectors.visible_cases(request.user).exclude(pk=case.pk)}


def _case_and_others(request: HttpRequest, case: Case) -> dict:
    return {"case": case, "cases": selectors.visible_cases(request.user)}


def _own_units_above(request: HttpRequest, case: Case) -> dict:
    """Supervise on behalf of a unit where the user holds a post, at or above the handling unit."""
    if request.user.is_superuser:
        return {"own_units": [*case.unit.ancestors(), case.unit]}
    own = {p.unit.pk: p.unit for p in posts_of(request.user) if case.unit_path.startswith(p.unit.path)}
    return {"own_units": list(own.values())}


def _today(case: Case) -> dict:
    return {"resolved_on": timezone.now().astimezone(RATE_TZ).date()}


def _route(case: Case) -> dict:
    return {"to_unit": services.route_suggestion(case=case).pk}


def _pending_extension(case: Case) -> dict:
    # At most one extension is pending per case (a database constraint).
    pending = case.extensions.filter(decision=ExtensionRequest.Decision.PENDING).values_list("pk", flat=True)
    return {"extension": pending.first()}


def _dispatch(request, case, d):
    return services.dispatch(case=case, to_unit=d["to_unit"], by=request.user, note=d["note"], co_units=d["co_units"])


def _contact(request, case, d):
    return services.record_contact(
        case=case, by=request.user, method=d["method"], summary=d["summary"],
        arrangement=d["arrangement"], promised_date=d["promised_date"], at=d["at"],
    )


def _progress(request, case, d):
    return services.add_progress(case=case, by=request.user, note=d["note"], public=d["public"], photos=d["photos"])


def _extension(request, case, d):
    return services.request_extension(case=case, by=request.user, new_due_at=d["new_due_at"], reason=d["reason"])


def _decide(request, case, d):
    return services.decide_extension(extension=d["extension"], by=request.user, approve=d["approve"], note=d["note"])


def _return_visit(request, case, d):
    return services.rate(
        case=case, resolved=d["resolved"], satisfaction=d["satisfaction"],
        channel=ReturnVisit.Channel.PHONE, by=request.user, comment=d["comment"],
    )


def _supervise(request, case, d):
    return services.supervise(case=case, by=request.user, unit=d["unit"], comment=d["comment"], due_at=d["due_at"])


def _lift(request, case, d):
    return services.lift_supervision(supervision=d["supervision"], by=request.user, note=d["note"])


ACTION_LIST = [
    Action("dispatch", _("Dispatch"), f.DispatchForm, _dispatch, _("The case was dispatched."), initial=_route),
    Action(
        "accept", _("Accept"), f.EmptyForm,
        lambda r, c, d: services.accept(case=c, by=r.user), _("You accepted the case."),
    ),
    Action("contact", _("Record contact with the caller"), f.ContactForm, _contact, _("The contact was recorded.")),
    Action("progress", _("Add a progress note"), f.ProgressForm, _progress, _("The progress note was added.")),
    Action(
        "finish_co_handling", _("Report our co-handling part done"), f.CoHandlingDoneForm,
        lambda r, c, d: services.finish_co_handling(case=c, by=r.user, note=d["note"]),
        _("Your unit's part is recorded as done."),
    ),
    Action(
        "resolve", _("Resolve"), f.ResolveForm,
        lambda r, c, d: services.resolve(
            case=c, by=r.user, result=d["result"], nature=d["nature"], resolved_on=d["resolved_on"]
        ),
        _("The case is resolved and waits for the return visit."), initial=_today,
    ),
    Action(
        "request_extension", _("Ask for more time"), f.ExtensionRequestForm, _extension,
        _("The extension request was sent to the dispatching unit."),
    ),
    Action(
        "decide_extension", _("Decide"), f.ExtensionDecisionForm, _decide,
        _("The extension request was decided."), kwargs=_case, initial=_pending_extension, menu=False,
    ),
    Action(
        "record_return_visit", _("Record a phone return visit"), f.ReturnVisitForm, _return_visit,
        _("The return visit was recorded."),
    ),
    Action(
        "close", _("Close"), f.CloseForm,
        lambda r, c, d: services.close(case=c, by=r.user, note=d["note"]), _("The case is closed."),
    ),
    Action(
        "reassign", _("Reassign"), f.ReassignForm,
        lambda r, c, d: services.reassign(case=c, to_unit=d["to_unit"], by=r.user, note=d["note"]),
        _("The case was reassigned."),
    ),
    Action(
        "add_co_handler", _("Add a co-handling unit"), f.CoHandlerForm,
        lambda r, c, d: services.add_co_handler(case=c, unit=d["unit"], by=r.user),
        _("The co-handling unit was added."),
    ),
    Action(
        "supervise", _("Put under supervision"), f.SuperviseForm, _supervise,
        _("The case is under supervision."), kwargs=_own_units_above,
    ),
    Action(
        "lift_supervision", _("Lift"), f.LiftSupervisionForm, _lift,
        _("The supervision was lifted."), kwargs=_case, menu=False,
    ),
    Action(
        "return", _("Return to dispatch"), f.ReturnForm,
        lambda r, c, d: services.return_case(case=c, by=r.user, reason=d["reason"]),
        _("The case was returned to the dispatching unit."), danger=True,
    ),
    Action(
        "merge", _("Merge into another case"), f.MergeForm,
        lambda r, c, d: services.merge(case=c, into=d["into"], by=r.user, note=d["note"]),
        _("The case was merged as a duplicate."), kwargs=_other_cases, danger=True,
    ),
    Action(
        "merge_duplicates", _("Merge duplicates into this case"), f.MergeDuplicatesForm,
        lambda r, c, d: services.merge_duplicates(into=c, cases=d["cases"], by=r.user, note=d["note"]),
        _("The duplicates were merged into this case."), kwargs=_case_and_others,
    ),
    Action(
        "exclude_from_rates", _("Exclude from the rates"), f.ExcludeForm,
        lambda r, c, d: services.exclude_from_rates(case=c, by=r.user, reason=d["reason"]),
        _("The case is excluded from the rates."), danger=True,
    ),
    Action(
        "reveal_phone", _("Show the full number"), f.RevealPhoneForm,
        lambda r, c, d: services.reveal_phone(case=c, by=r.user, reason=d["reason"]), "", menu=False,
        kwargs=lambda r, c: {"needs_reason": c.status in services.REVEAL_NEEDS_REASON},
    ),
]
ACTIONS: dict[str, Action] = {action.name: action for action in ACTION_LIST}
UNIT_ACTIONS = {a.name for a in ACTION_LIST if issubclass(a.form, f.UnitsFormMixin)}
