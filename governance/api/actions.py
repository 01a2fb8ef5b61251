"""The case actions of the API: for each, its input and the one service call it makes.

Names are the keys of ``cases.services.TRANSITIONS`` (as on the case page); each is
``POST /api/v1/cases/{code}/{name with hyphens}/``. The page's forms and these serializers
ask for the same fields; the services decide whether the move is allowed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from cases import services
from cases.models import Case, ContactRecord, ExtensionRequest, ReturnVisit, Supervision
from communities.selectors import posts_of

from .errors import Conflict
from .fields import CaseCodeField, UnitCodeField


def _text(**kwargs) -> serializers.CharField:
    return serializers.CharField(required=False, allow_blank=True, default="", **kwargs)


class EmptyInput(serializers.Serializer):
    """No input."""


class DispatchInput(serializers.Serializer):
    to_unit = UnitCodeField(help_text="Code of the handling unit.")
    co_units = UnitCodeField(many=True, required=False, help_text="Codes of co-handling units (双派).")
    note = _text(help_text="Instructions.")


class ReassignInput(serializers.Serializer):
    to_unit = UnitCodeField(help_text="Code of the new handling unit.")
    note = _text()


class CoHandlerInput(serializers.Serializer):
    unit = UnitCodeField(help_text="Code of the co-handling unit.")


class ReasonInput(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class ExcludeInput(serializers.Serializer):
    reason = serializers.CharField(max_length=200)


class ContactInput(serializers.Serializer):
    method = serializers.ChoiceField(choices=ContactRecord.Method.choices)
    summary = serializers.CharField(help_text="What was said.")
    arrangement = _text()
    promised_date = serializers.DateField(required=False, allow_null=True, default=None)
    at = serializers.DateTimeField(required=False, allow_null=True, default=None, help_text="Empty for now.")


class ProgressInput(serializers.Serializer):
    note = serializers.CharField()
    public = serializers.BooleanField(required=False, default=False, help_text="Show to the resident.")


class ResolveInput(serializers.Serializer):
    nature = serializers.ChoiceField(choices=Case.Nature.choices)
    result = serializers.CharField(help_text="The result, for the caller.")
    resolved_on = serializers.DateField(
        required=False, allow_null=True, default=None,
        help_text="The day it was actually resolved (Beijing time); empty for today. Not before receipt.",
    )


class ExtensionRequestInput(serializers.Serializer):
    new_due_at = serializers.DateTimeField()
    reason = serializers.CharField()


class ExtensionDecisionInput(serializers.Serializer):
    extension = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text="Id of the pending request; empty for the pending one."
    )
    approve = serializers.BooleanField()
    note = _text()


class ReturnVisitInput(serializers.Serializer):
    resolved = serializers.BooleanField(help_text="Does the caller say it is resolved?")
    satisfaction = serializers.ChoiceField(choices=Case.Satisfaction.choices)
    comment = _text()


class NoteInput(serializers.Serializer):
    note = _text()


class NoteRequiredInput(serializers.Serializer):
    note = serializers.CharField(help_text="What the unit did.")


class SuperviseInput(serializers.Serializer):
    unit = UnitCodeField(
        required=False, allow_null=True, default=None,
        help_text="On behalf of which unit (one where the user holds a post); empty if there is only one.",
    )
    comment = serializers.CharField()
    due_at = serializers.DateTimeField(help_text="When the answer is due.")


class LiftSupervisionInput(serializers.Serializer):
    supervision = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text="Id of the supervision; empty if only one is active."
    )
    note = _text()


class MergeInput(serializers.Serializer):
    into = CaseCodeField(help_text="Tracking code of the lead case.")
    note = _text()


class RevealInput(serializers.Serializer):
    reason = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=500,
        help_text="Why the number is needed; required once the case is closed or merged (logged).",
    )


class MergeDuplicatesInput(serializers.Serializer):
    cases = CaseCodeField(many=True, allow_empty=False, help_text="Tracking codes of the duplicates (all or none).")
    note = _text()


class PhoneSerializer(serializers.Serializer):
    phone = serializers.CharField(help_text="The caller's full number (the reveal is logged).")


# --- what each action does -----------------------------------------------------------------


def _pending_extension(case: Case, pk: int | None) -> ExtensionRequest:
    pending = case.extensions.filter(decision=ExtensionRequest.Decision.PENDING)
    extension = pending.filter(pk=pk).first() if pk is not None else pending.first()
    if extension is None:
        raise Conflict(_("There is no extension request of this case waiting for a decision."))
    return extension


def _active_supervision(case: Case, pk: int | None) -> Supervision:
    active = list(case.supervisions.filter(lifted_at__isnull=True).select_related("unit", "case"))
    if pk is not None:
        active = [s for s in active if s.pk == pk]
    if len(active) != 1:
        message = (
            _("Name the supervision to lift: this case has several.") if active
            else _("This case has no such supervision in force.")
        )
        raise Conflict(message)
    return active[0]


def _supervising_unit(user, case: Case, unit):
    if unit is not None:
        return unit
    own = {p.unit.pk: p.unit for p in posts_of(user) if case.unit_path.startswith(p.unit.path)}
    if len(own) != 1:
        raise serializers.ValidationError({"unit": [_("Choose on behalf of which unit you supervise.")]})
    return next(iter(own.values()))


def _dispatch(user, case, d):
    return services.dispatch(case=case, to_unit=d["to_unit"], by=user, note=d["note"], co_units=d.get("co_units", []))


def _contact(user, case, d):
    return services.record_contact(
        case=case, by=user, method=d["method"], summary=d["summary"], arrangement=d["arrangement"],
        promised_date=d["promised_date"], at=d["at"],
    )


def _decide(user, case, d):
    extension = _pending_extension(case, d["extension"])
    return services.decide_extension(extension=extension, by=user, approve=d["approve"], note=d["note"])


def _return_visit(user, case, d):
    return services.rate(
        case=case, resolved=d["resolved"], satisfaction=d["satisfaction"], channel=ReturnVisit.Channel.PHONE,
        by=user, comment=d["comment"],
    )


def _supervise(user, case, d):
    unit = _supervising_unit(user, case, d["unit"])
    return services.supervise(case=case, by=user, unit=unit, comment=d["comment"], due_at=d["due_at"])


def _lift(user, case, d):
    return services.lift_supervision(supervision=_active_supervision(case, d["supervision"]), by=user, note=d["note"])


@dataclass(frozen=True)
class ApiAction:
    name: str  # a key of services.TRANSITIONS
    summary: str
    input: type[serializers.Serializer]
    perform: Callable[..., object]
    reveals_phone: bool = False

    @property
    def url_path(self) -> str:
        return self.name.replace("_", "-")


ACTIONS = [
    ApiAction("dispatch", "Dispatch (派单) to a handling unit", DispatchInput, _dispatch),
    ApiAction("accept", "Accept (接单): the user becomes the handler", EmptyInput,
              lambda u, c, d: services.accept(case=c, by=u)),
    ApiAction("contact", "Record contact with the caller (首问负责制)", ContactInput, _contact),
    ApiAction("progress", "Add a progress note", ProgressInput,
              lambda u, c, d: services.add_progress(case=c, by=u, note=d["note"], public=d["public"])),
    ApiAction("finish_co_handling", "A co-handling unit (协办) reports its own part done", NoteRequiredInput,
              lambda u, c, d: services.finish_co_handling(case=c, by=u, note=d["note"])),
    ApiAction("resolve", "Resolve (办结), with the day it was resolved", ResolveInput,
              lambda u, c, d: services.resolve(
                  case=c, by=u, result=d["result"], nature=d["nature"], resolved_on=d["resolved_on"])),
    ApiAction("request_extension", "Ask the dispatching unit for more time (延期)", ExtensionRequestInput,
              lambda u, c, d: services.request_extension(case=c, by=u, new_due_at=d["new_due_at"], reason=d["reason"])),
    ApiAction("decide_extension", "Approve or refuse the pending extension", ExtensionDecisionInput, _decide),
    ApiAction("record_return_visit", "Record a phone return visit (回访)", ReturnVisitInput, _return_visit),
    ApiAction("close", "Close", NoteInput, lambda u, c, d: services.close(case=c, by=u, note=d["note"])),
    ApiAction("reassign", "Reassign (改派) to another unit", ReassignInput,
              lambda u, c, d: services.reassign(case=c, to_unit=d["to_unit"], by=u, note=d["note"])),
    ApiAction("add_co_handler", "Add a co-handling unit (双派)", CoHandlerInput,
              lambda u, c, d: services.add_co_handler(case=c, unit=d["unit"], by=u)),
    ApiAction("supervise", "Put under supervision (督办)", SuperviseInput, _supervise),
    ApiAction("lift_supervision", "Lift a supervision", LiftSupervisionInput, _lift),
    ApiAction("return", "Return to the dispatching unit (退单), with the reason", ReasonInput,
              lambda u, c, d: services.return_case(case=c, by=u, reason=d["reason"])),
    ApiAction("merge", "Merge into another case as a duplicate", MergeInput,
              lambda u, c, d: services.merge(case=c, into=d["into"], by=u, note=d["note"])),
    ApiAction("merge_duplicates", "Merge many duplicates into this case (the lead), all or none",
              MergeDuplicatesInput,
              lambda u, c, d: services.merge_duplicates(into=c, cases=d["cases"], by=u, note=d["note"])),
    ApiAction("exclude_from_rates", "Exclude from the rates, with the reason", ExcludeInput,
              lambda u, c, d: services.exclude_from_rates(case=c, by=u, reason=d["reason"])),
    ApiAction("reveal_phone", "The caller's full number (current handler only; a reason once closed; logged)",
              RevealInput, lambda u, c, d: services.reveal_phone(case=c, by=u, reason=d["reason"]),
              reveals_phone=True),
]
