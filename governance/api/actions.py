"""The API's side of the case actions: a serializer per action of the catalogue.

What each action is and does is the catalogue (``cases.actions``); each is
``POST /api/v1/cases/{code}/{name with hyphens}/``. These serializers ask for the fields of
the page's forms and yield the same data (model instances): the pending extension, the
active supervision and the supervising unit are resolved here, against the case in the
context (``context["case"]``); the services decide whether the move is allowed.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from cases.actions import supervising_units
from cases.models import Case, ContactRecord, ExtensionRequest

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

    def validate(self, attrs):
        return {"co_units": [], **attrs}


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

    def validate(self, attrs):
        return {**attrs, "photos": []}  # photos are sent from the page only (the API takes JSON, not files)


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

    def validate(self, attrs):
        pending = self.context["case"].extensions.filter(decision=ExtensionRequest.Decision.PENDING)
        pk = attrs["extension"]
        extension = pending.filter(pk=pk).first() if pk is not None else pending.first()
        if extension is None:
            raise Conflict(_("There is no extension request of this case waiting for a decision."))
        return {**attrs, "extension": extension}


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

    def validate(self, attrs):
        if attrs["unit"] is not None:
            return attrs
        own = supervising_units(self.context["request"].user, self.context["case"])
        if len(own) != 1:
            raise serializers.ValidationError({"unit": [_("Choose on behalf of which unit you supervise.")]})
        return {**attrs, "unit": own[0]}


class LiftSupervisionInput(serializers.Serializer):
    supervision = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text="Id of the supervision; empty if only one is active."
    )
    note = _text()

    def validate(self, attrs):
        active = list(self.context["case"].supervisions.filter(lifted_at__isnull=True).select_related("unit", "case"))
        if attrs["supervision"] is not None:
            active = [s for s in active if s.pk == attrs["supervision"]]
        if len(active) != 1:
            raise Conflict(
                _("Name the supervision to lift: this case has several.") if active
                else _("This case has no such supervision in force.")
            )
        return {**attrs, "supervision": active[0]}


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


INPUTS: dict[str, type[serializers.Serializer]] = {
    "dispatch": DispatchInput,
    "accept": EmptyInput,
    "contact": ContactInput,
    "progress": ProgressInput,
    "finish_co_handling": NoteRequiredInput,
    "resolve": ResolveInput,
    "request_extension": ExtensionRequestInput,
    "decide_extension": ExtensionDecisionInput,
    "record_return_visit": ReturnVisitInput,
    "close": NoteInput,
    "reassign": ReassignInput,
    "add_co_handler": CoHandlerInput,
    "supervise": SuperviseInput,
    "lift_supervision": LiftSupervisionInput,
    "return": ReasonInput,
    "merge": MergeInput,
    "merge_duplicates": MergeDuplicatesInput,
    "exclude_from_rates": ExcludeInput,
    "reveal_phone": RevealInput,
}
