"""A request registered through the API: the staff intake page's fields and rules, by code.

The 12345 platform pushes its dispatches here (``source=hotline`` with its order number);
the same order pushed twice answers with the case made the first time, never a second one.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from cases.forms_staff import STAFF_SOURCES
from cases.models import Case, Urgency
from communities.phones import TYPED_PHONE_INVALID, TYPED_PHONE_PATTERN

from .fields import BuildingField, CategoryCodeField, UnitCodeField

API_SOURCES = [*STAFF_SOURCES, (Case.Source.API.value, Case.Source.API.label)]
HOTLINE_ONLY = ("hotline_order_no", "contact_due_at", "resolve_due_at")


class CaseCreateSerializer(serializers.Serializer):
    source = serializers.ChoiceField(choices=API_SOURCES)
    hotline_order_no = serializers.CharField(
        max_length=40, required=False, allow_blank=True, default="",
        help_text="Required for a 12345 dispatch; the same number is never registered twice.",
    )
    received_at = serializers.DateTimeField(required=False, allow_null=True, default=None, help_text="Empty for now.")
    contact_due_at = serializers.DateTimeField(required=False, allow_null=True, default=None,
                                               help_text="From the hotline; otherwise from the category.")
    resolve_due_at = serializers.DateTimeField(required=False, allow_null=True, default=None,
                                               help_text="From the hotline; otherwise from the category.")
    category = CategoryCodeField(help_text="Code of an active category.")
    urgency = serializers.ChoiceField(choices=Urgency.choices, required=False, allow_blank=True, default="",
                                      help_text="Empty for the category's default.")
    kind = serializers.ChoiceField(choices=Case.Kind.choices, required=False, default=Case.Kind.HELP)
    title = serializers.CharField(max_length=120)
    description = serializers.CharField(max_length=4000)
    location_unit = UnitCodeField(help_text="Code of the grid or community where it happened.")
    building = BuildingField(required=False, allow_null=True, default=None, help_text="Id of the building, if any.")
    address = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    resident_name = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    resident_phone = serializers.RegexField(
        TYPED_PHONE_PATTERN, max_length=20, required=False, allow_blank=True, default="",
        error_messages={"invalid": TYPED_PHONE_INVALID},
    )
    consent = serializers.BooleanField(
        required=False, default=False, help_text="The caller agrees that their name and phone are kept for this request."
    )

    def validate(self, data: dict) -> dict:
        """The staff intake form's rules (cases.forms_staff.IntakeForm.clean)."""
        errors = {}
        if data["source"] == Case.Source.HOTLINE and not data["hotline_order_no"].strip():
            errors["hotline_order_no"] = [_("A 12345 dispatch needs its order number.")]
        if data["source"] != Case.Source.HOTLINE:
            for name in HOTLINE_ONLY:  # only the hotline sends its own order number and deadlines
                data[name] = None
        if data["received_at"] and data["received_at"] > timezone.now():
            errors["received_at"] = [_("The received time cannot be in the future.")]
        if errors:
            raise serializers.ValidationError(errors)
        return data

    def service_kwargs(self) -> dict:
        data = dict(self.validated_data)
        data["urgency"] = data["urgency"] or None
        return data
