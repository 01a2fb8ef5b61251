"""The case page's side of the case actions: a form per action, and the one way a form is run.

What each action is and does is the catalogue (``cases.actions``); here is only how the page
asks for it: the Django form, its constructor's arguments and its initial values, keyed by
the catalogue's names. ``services.allowed_actions`` says which forms to show, and the same
rule refuses a forged POST.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone

from communities.pages import add_service_errors

from .. import forms_staff as f
from .. import selectors, services
from ..actions import ACTION_LIST as CATALOGUE_LIST
from ..actions import CaseAction, supervising_units
from ..models import Case, ExtensionRequest
from ..rates import RATE_TZ


def _no_kwargs(request: HttpRequest, case: Case) -> dict:
    return {}


def _no_initial(case: Case) -> dict:
    return {}


@dataclass(frozen=True)
class PageForm:
    form: type[forms.Form]
    kwargs: Callable[[HttpRequest, Case], dict] = field(default=_no_kwargs)
    initial: Callable[[Case], dict] = field(default=_no_initial)


def _case(request: HttpRequest, case: Case) -> dict:
    return {"case": case}


def _other_cases(request: HttpRequest, case: Case) -> dict:
    return {"cases": selectors.visible_cases(request.user).exclude(pk=case.pk)}


def _case_and_others(request: HttpRequest, case: Case) -> dict:
    return {"case": case, "cases": selectors.visible_cases(request.user)}


def _own_units_above(request: HttpRequest, case: Case) -> dict:
    return {"own_units": supervising_units(request.user, case)}


def _needs_reason(request: HttpRequest, case: Case) -> dict:
    return {"needs_reason": case.status in services.REVEAL_NEEDS_REASON}


def _today(case: Case) -> dict:
    return {"resolved_on": timezone.now().astimezone(RATE_TZ).date()}


def _route(case: Case) -> dict:
    return {"to_unit": services.route_suggestion(case=case).pk}


def _pending_extension(case: Case) -> dict:
    # At most one extension is pending per case (a database constraint); the case page's row
    # carries its key (``pending_extension_id``).
    if "pending_extension_id" in case.__dict__:
        return {"extension": case.__dict__["pending_extension_id"]}
    pending = case.extensions.filter(decision=ExtensionRequest.Decision.PENDING).values_list("pk", flat=True)
    return {"extension": pending.first()}


PAGE_FORMS: dict[str, PageForm] = {
    "dispatch": PageForm(f.DispatchForm, initial=_route),
    "accept": PageForm(f.EmptyForm),
    "contact": PageForm(f.ContactForm),
    "progress": PageForm(f.ProgressForm),
    "finish_co_handling": PageForm(f.CoHandlingDoneForm),
    "resolve": PageForm(f.ResolveForm, initial=_today),
    "request_extension": PageForm(f.ExtensionRequestForm),
    "decide_extension": PageForm(f.ExtensionDecisionForm, kwargs=_case, initial=_pending_extension),
    "record_return_visit": PageForm(f.ReturnVisitForm),
    "close": PageForm(f.CloseForm),
    "reassign": PageForm(f.ReassignForm),
    "add_co_handler": PageForm(f.CoHandlerForm),
    "supervise": PageForm(f.SuperviseForm, kwargs=_own_units_above),
    "lift_supervision": PageForm(f.LiftSupervisionForm, kwargs=_case),
    "return": PageForm(f.ReturnForm),
    "merge": PageForm(f.MergeForm, kwargs=_other_cases),
    "merge_duplicates": PageForm(f.MergeDuplicatesForm, kwargs=_case_and_others),
    "exclude_from_rates": PageForm(f.ExcludeForm),
    "reveal_phone": PageForm(f.RevealPhoneForm, kwargs=_needs_reason),
}


@dataclass(frozen=True)
class Action:
    """A catalogue action as the page shows it (the templates read name, label, url_name, danger)."""

    action: CaseAction
    page: PageForm

    @property
    def name(self) -> str:
        return self.action.name

    @property
    def label(self) -> str:
        return self.action.label

    @property
    def success(self) -> str:
        return self.action.success

    @property
    def menu(self) -> bool:
        return self.action.menu

    @property
    def danger(self) -> bool:
        return self.action.danger

    @property
    def url_name(self) -> str:
        return f"cases:{self.name}"

    @property
    def has_units(self) -> bool:
        return issubclass(self.page.form, f.UnitsFormMixin)

    def bound_form(self, request: HttpRequest, case: Case, units) -> forms.Form:
        kwargs = self.page.kwargs(request, case)
        if self.has_units:
            kwargs["units"] = units
        return self.page.form(request.POST, request.FILES, prefix=self.name, **kwargs)

    def blank_form(self, request: HttpRequest, case: Case, units, unit_list) -> forms.Form:
        kwargs = self.page.kwargs(request, case)
        if self.has_units:
            kwargs.update(units=units, unit_list=unit_list)
        return self.page.form(prefix=self.name, initial=self.page.initial(case), **kwargs)


ACTION_LIST = [Action(action, PAGE_FORMS[action.name]) for action in CATALOGUE_LIST]
ACTIONS: dict[str, Action] = {action.name: action for action in ACTION_LIST}
UNIT_ACTIONS = {a.name for a in ACTION_LIST if a.has_units}


def run_action(request: HttpRequest, case: Case, spec: Action, form: forms.Form, render) -> HttpResponse:
    """Validate, call the action's one service, then a message and back to the case.

    ``render(**kwargs)`` draws the case page: with ``failed=`` a form shown open with its
    errors, or with ``revealed_phone=`` the number (on this response only, never in a message).
    """
    if not form.is_valid():
        if _only_hidden_errors(form):
            # The extension or supervision it points at is gone (decided, lifted): nothing to re-type.
            messages.error(request, next(iter(form.errors.values()))[0])
            return redirect(case)
        return render(failed=(spec.name, form))
    try:
        result = spec.action.perform(request.user, case, form.cleaned_data)
    except services.IllegalTransition as error:
        messages.error(request, error.message)
        return redirect(case)
    except ValidationError as error:
        add_service_errors(form, error)
        return render(failed=(spec.name, form))
    if spec.action.reveals_phone:
        return render(revealed_phone=result)
    messages.success(request, spec.success)
    return redirect(case)


def _only_hidden_errors(form: forms.Form) -> bool:
    hidden = {field.name for field in form.hidden_fields()}
    return bool(form.errors) and set(form.errors) <= hidden
