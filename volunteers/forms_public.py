"""The public volunteer registration form (/volunteers/join/): no account needed.

The place lists (street → community → building) are the request form's (``cases.forms_public.
PlaceLists``), so residents meet the same choices on both forms.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from cases.forms_public import PlaceLists
from cases.widgets import DateInput
from communities.phones import validate_mobile
from communities.models import Building, Unit

from .models import Skill


class JoinForm(forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=50)
    phone = forms.CharField(
        label=_("Mobile phone"), max_length=20,
        help_text=_("The community calls you on this number about your registration."),
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    street = forms.ChoiceField(label=_("Street"), required=False)
    community = forms.ChoiceField(label=_("Community"), required=False)
    building = forms.ChoiceField(label=_("Building you live in"), required=False)
    skills = forms.ModelMultipleChoiceField(
        label=_("What can you do?"), queryset=Skill.objects.order_by("sort_order", "code"), required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    availability = forms.CharField(
        label=_("When can you help?"), max_length=200, required=False,
        help_text=_("e.g. weekday mornings, weekends."),
    )
    party_member = forms.BooleanField(label=_("I am a party member"), required=False)
    party_since = forms.DateField(label=_("Party member since"), required=False, widget=DateInput())
    employer_party_org = forms.CharField(
        label=_("In-service party members: party organisation of your employer"), max_length=100, required=False,
    )
    reported_on = forms.DateField(label=_("Reported to the community on"), required=False, widget=DateInput())
    consent = forms.BooleanField(
        label=_("I agree that my name, phone number and these details are kept by my community for volunteer work."),
        error_messages={"required": _("Your consent is needed to register.")},
    )
    # Honeypot: hidden by CSS, so people leave it empty and form-filling bots do not.
    website = forms.CharField(
        label=_("Leave this field empty"), required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        source = self.data if self.is_bound else self.initial
        self.places = PlaceLists(
            street_id=source.get("street", ""), community_id=source.get("community", ""), strict=self.is_bound
        )
        self.fields["street"].choices = self.places.street_choices()
        self.fields["community"].choices = self.places.community_choices()
        self.fields["building"].choices = self.places.building_choices()
        cascade = {"hx-get": reverse("volunteers:join_places"), "hx-target": "#place-fields",
                   "hx-swap": "outerHTML", "hx-include": "#place-fields"}
        self.fields["street"].widget.attrs.update(cascade)
        self.fields["community"].widget.attrs.update(cascade)
        self.unit: Unit | None = None
        self.building_obj: Building | None = None

    @property
    def honeypot_filled(self) -> bool:
        return bool(self.data.get("website", "").strip())

    def clean_phone(self) -> str:
        return validate_mobile(self.cleaned_data["phone"])

    def clean(self):
        cleaned = super().clean()
        if self.honeypot_filled:
            raise ValidationError(_("Your registration could not be accepted. Please try again later."), code="honeypot")
        self._resolve_place(cleaned)
        if cleaned.get("employer_party_org") and not cleaned.get("party_member"):
            self.add_error("party_member", _("Tick this if you report from your employer's party organisation."))
        return cleaned

    def _resolve_place(self, cleaned: dict) -> None:
        if self.places.mismatch:
            self.add_error("community", _("Choose a community of the chosen street."))
            return
        community = self.places.community
        if community is None:
            self.add_error("community", _("Choose the community where you live."))
            return
        building = next((b for b in self.places.buildings if str(b.pk) == cleaned.get("building")), None)
        self.building_obj = building
        self.unit = building.unit if building else community

    def service_fields(self) -> dict:
        data = self.cleaned_data
        return {
            "name": data["name"], "phone": data["phone"], "unit": self.unit, "building": self.building_obj,
            "party_member": data["party_member"], "party_since": data["party_since"],
            "employer_party_org": data["employer_party_org"], "reported_on": data["reported_on"],
            "availability": data["availability"], "skills": data["skills"],
        }
