"""POST requests.{format}: the spec's arguments, checked as the resident web form checks them."""

from __future__ import annotations

import copy

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from cases.forms_public import ReportForm
from communities.phones import validate_mobile
from cases.models import Case
from communities.models import Unit

PLACE_NEEDED = _(
    "Give address_id: the code of the community or grid where it happened (as on its QR posters); "
    "this jurisdiction does not place requests by lat/long or address_string alone."
)
ADDRESS_NEEDED = _("At the level of a street, describe the place in address_string.")


class RequestForm(forms.Form):
    service_code = forms.CharField(max_length=40)
    address_id = forms.CharField(max_length=40, required=False)
    address_string = forms.CharField(max_length=200, required=False)
    lat = forms.FloatField(required=False, min_value=-90, max_value=90)
    long = forms.FloatField(required=False, min_value=-180, max_value=180)
    # The web form's own field: the same lengths and messages.
    description = copy.deepcopy(ReportForm.base_fields["description"])
    first_name = forms.CharField(max_length=25, required=False)
    last_name = forms.CharField(max_length=25, required=False)
    phone = forms.CharField(max_length=20, required=False)
    account_id = forms.CharField(max_length=100, required=False)
    kind = forms.ChoiceField(choices=[("", ""), *Case.Kind.choices], required=False)

    def __init__(self, data, *, units):
        data = data.copy()
        data.setdefault("kind", data.get("attribute[kind]", ""))
        super().__init__(data)
        self.units = units
        self.place: Unit | None = None

    def clean_phone(self) -> str:
        phone = self.cleaned_data["phone"].strip()
        return validate_mobile(phone) if phone else ""

    def clean(self):
        cleaned = super().clean()
        code = (cleaned.get("address_id") or "").strip()
        if not code:
            raise ValidationError(PLACE_NEEDED, code="address_id")
        self.place = self.units.filter(code=code).first()
        if self.place is None:
            self.add_error("address_id", _("No community or grid has this code."))
        elif self.place.level in (Unit.Level.AREA, Unit.Level.STREET) and not cleaned.get("address_string"):
            self.add_error("address_string", ADDRESS_NEEDED)
        return cleaned

    def messages(self) -> list[str]:
        """Every error as ``"field: message"`` (the spec's error list has no field names)."""
        found = []
        for name, errors in self.errors.items():
            for message in errors:
                found.append(message if name == "__all__" else f"{name}: {message}")
        return found

    def intake_fields(self) -> dict:
        data = self.cleaned_data
        name = f"{data['last_name'].strip()}{data['first_name'].strip()}"
        description = data["description"].strip()
        first_line = description.splitlines()[0]
        return {
            "source": Case.Source.API,
            "kind": data["kind"] or Case.Kind.HELP,
            "title": first_line[:40] + ("…" if len(first_line) > 40 else ""),
            "description": description,
            "location_unit": self.place,
            "address": data["address_string"].strip(),
            "resident_name": name,
            "resident_phone": data["phone"],
            # The connected system collected the caller's consent under its agreement with the portal.
            "consent": bool(name or data["phone"]),
        }
