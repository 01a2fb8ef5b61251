"""Forms residents fill in without an account: the request form, the status-page forms."""

from __future__ import annotations

import copy
import re
import uuid

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.choices import BaseChoiceIterator, normalize_choices
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from communities.models import Building, Unit
from communities.phones import validate_mobile

from . import reference
from .models import Case, Category
from .uploads import MAX_PHOTO_BYTES, MAX_PHOTOS, DecodePhotosLastMixin, check_photos



class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


def _photos_help() -> str:
    return gettext(
        "Up to %(count)d JPEG or PNG photos, %(size)d MB each. Location data in photos is removed."
    ) % {"count": MAX_PHOTOS, "size": MAX_PHOTO_BYTES // (1024 * 1024)}


# Lazy: the form classes are built once, at import, in whatever language is active then.
PHOTOS_HELP = lazy(_photos_help, str)()


class PhotosField(forms.FileField):
    """Up to MAX_PHOTOS photos; cleans to a list of header-checked uploads, which the form
    (``DecodePhotosLastMixin``) turns into ValidatedPhotos (metadata stripped) once all else is valid."""

    widget = MultipleFileInput

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", PHOTOS_HELP)
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("accept", "image/jpeg,image/png")

    def clean(self, data, initial=None):
        files = [f for f in (data if isinstance(data, (list, tuple)) else [data]) if f]
        if not files:
            if self.required:
                raise ValidationError(self.error_messages["required"], code="required")
            return []
        return check_photos(files)


def category_choices(categories: reference.Categories | None = None) -> list:
    """Active categories residents can pick, grouped under their parent's plain-language name."""
    categories = categories or reference.Snapshot().categories()
    children: dict[int | None, list[Category]] = {}
    for category in categories.active:
        children.setdefault(category.parent_id, []).append(category)
    choices: list = [("", _("Choose what it is about"))]
    for top in children.get(None, []):  # a child of an inactive parent is not offered
        below = children.get(top.pk)
        if below:
            choices.append((top.public_name, [(str(c.pk), c.public_name) for c in _leaves(below, children)]))
        else:
            choices.append((str(top.pk), top.public_name))
    return choices


def _leaves(categories: list[Category], children: dict) -> list[Category]:
    leaves = []
    for category in categories:
        leaves += _leaves(children[category.pk], children) if category.pk in children else [category]
    return leaves


class PreparedChoices(BaseChoiceIterator):
    """Choices normalised once and shared (per generation of the reference lists) by every form.

    A field normalises a plain list each time it is given one, twice with its widget; these are
    taken as they are. Read-only: labels may be lazy translations, resolved when rendered.
    """

    def __init__(self, choices: list) -> None:
        self.choices = list(normalize_choices(choices))

    def __iter__(self):
        return iter(self.choices)


class PlaceLists:
    """The units and buildings the place selects offer, from the shared reference lists (no query when cached)."""

    def __init__(
        self, *, street_id: str = "", community_id: str = "", strict: bool = False,
        snapshot: reference.Snapshot | None = None,
    ):
        self.snapshot = snapshot = snapshot or reference.Snapshot()
        self.units, self.streets, self.communities = snapshot.local("places:index", self._index)
        self.street = self._pick(street_id, Unit.Level.STREET)
        self.community = self._pick(community_id, Unit.Level.COMMUNITY)
        if self.community and self.street is None:
            self.street = self.units.get(str(self.community.parent_id))
        # A street chosen after the community (the lists are dependent): the community no longer fits.
        self.mismatch = bool(self.community and self.street and self.community.parent_id != self.street.pk)
        if self.mismatch and not strict:
            self.community = None
        self.buildings = snapshot.buildings(self.community) if self.community else []

    def _index(self) -> tuple[dict[str, Unit], list[Unit], list[Unit]]:
        units = {str(u.pk): u for u in self.snapshot.places()}
        streets = [u for u in units.values() if u.level == Unit.Level.STREET]
        return units, streets, [u for u in units.values() if u.level == Unit.Level.COMMUNITY]

    def _pick(self, pk: str, level: str) -> Unit | None:
        unit = self.units.get(str(pk or ""))
        return unit if unit and unit.level == level else None

    def street_choices(self) -> PreparedChoices:
        return self.snapshot.local("choices:streets", lambda: PreparedChoices(
            [("", _("Choose your street"))] + [(str(u.pk), u.name) for u in self.streets]
        ))

    def community_choices(self) -> PreparedChoices:
        street = self.street
        return self.snapshot.local(f"choices:communities:{street.pk if street else ''}", lambda: PreparedChoices(
            self._community_choices(street)
        ))

    def _community_choices(self, street: Unit | None) -> list:
        empty = [("", _("Choose your community"))]
        if street:
            return empty + [(str(u.pk), u.name) for u in self.communities if u.parent_id == street.pk]
        groups = [
            (street.name, [(str(u.pk), u.name) for u in self.communities if u.parent_id == street.pk])
            for street in self.streets
        ]
        return empty + [group for group in groups if group[1]]

    def building_choices(self) -> PreparedChoices:
        community = self.community
        return self.snapshot.local(f"choices:buildings:{community.pk if community else ''}", lambda: PreparedChoices(
            [("", _("Not a building / not listed"))] + [(str(b.pk), b.name) for b in self.buildings]
            if community else [("", _("Choose your community first"))]
        ))


class QuickCopiedFields(dict):
    """A form class's fields, copied for each form as ``Field.__deepcopy__`` copies them, without
    ``copy.deepcopy``'s machinery (a memo, a reduce per object): that was most of building the
    busiest form. Fields or widgets that copy themselves some other way are deep-copied as usual."""

    def __deepcopy__(self, memo):
        return {name: _copy_field(field, memo) for name, field in self.items()}


_PLAIN_FIELD_COPIES = {forms.Field.__deepcopy__, forms.ChoiceField.__deepcopy__}
_PLAIN_WIDGET_COPIES = {forms.Widget.__deepcopy__, forms.widgets.ChoiceWidget.__deepcopy__}


def _copy_field(field: forms.Field, memo: dict) -> forms.Field:
    if type(field).__deepcopy__ not in _PLAIN_FIELD_COPIES or type(field.widget).__deepcopy__ not in _PLAIN_WIDGET_COPIES:
        return copy.deepcopy(field, memo)
    copied = _shallow(field)
    widget = copied.widget = _shallow(field.widget)
    widget.attrs = field.widget.attrs.copy()
    if isinstance(widget, forms.widgets.ChoiceWidget):
        widget.choices = copy.copy(field.widget.choices)
    copied.error_messages = field.error_messages.copy()
    copied.validators = field.validators[:]
    if isinstance(field, forms.ChoiceField):
        copied._choices = copy.deepcopy(field._choices, memo)
    return copied


def _shallow(obj):
    copied = object.__new__(type(obj))
    copied.__dict__.update(obj.__dict__)
    return copied


_PLACES_URLS: dict[tuple, str] = {}


def _places_url() -> str:
    """The address the place selects ask for their lists, reversed once per URLconf and script prefix."""
    key = (get_urlconf() or settings.ROOT_URLCONF, get_script_prefix())
    if key not in _PLACES_URLS:
        _PLACES_URLS[key] = reverse("cases_public:places")
    return _PLACES_URLS[key]


class ReportForm(DecodePhotosLastMixin, forms.Form):
    """The resident request form (/report/)."""

    category = forms.ChoiceField(label=_("What is it about?"))
    description = forms.CharField(
        label=_("What happened?"), max_length=2000, min_length=5,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Where exactly, since when, who is affected. Do not write ID numbers."),
    )
    street = forms.ChoiceField(label=_("Street"), required=False)
    community = forms.ChoiceField(label=_("Community"), required=False)
    building = forms.ChoiceField(label=_("Building"), required=False)
    address = forms.CharField(
        label=_("Address or place"), max_length=200, required=False,
        help_text=_("If the place is not a listed building: e.g. the gate of Xingcheng market."),
    )
    unit = forms.CharField(required=False, widget=forms.HiddenInput)  # a poster's grid or community code
    # One token per filled-in form: the same form sent twice makes one case (see views_public).
    submission = forms.CharField(required=False, widget=forms.HiddenInput)
    photos = PhotosField(label=_("Photos"))
    resident_name = forms.CharField(
        label=_("Your name"), max_length=50, help_text=_("A surname is enough, e.g. Ms Yang.")
    )
    resident_phone = forms.CharField(
        label=_("Mobile phone"), max_length=20, validators=[],
        help_text=_("The handler calls you on this number. Its last four digits open your status page."),
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    consent = forms.BooleanField(
        label=_("I agree that my name, phone number and this request are used to handle it."),
        error_messages={"required": _("Your consent is needed to handle the request.")},
    )
    # Honeypot: hidden by CSS, so people leave it empty and form-filling bots do not.
    website = forms.CharField(
        label=_("Leave this field empty"), required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial = dict(self.initial)
        if not self.initial.get("submission"):
            self.initial["submission"] = uuid.uuid4().hex
        source = self.data if self.is_bound else self.initial
        snapshot = reference.Snapshot()
        self.places = PlaceLists(
            street_id=source.get("street", ""), community_id=source.get("community", ""), strict=self.is_bound,
            snapshot=snapshot,
        )
        self.categories = snapshot.categories()
        if not self.is_bound:
            self.initial["street"] = str(self.places.street.pk) if self.places.street else ""
            self.initial["community"] = str(self.places.community.pk) if self.places.community else ""
        self.fields["category"].choices = snapshot.local(
            "choices:categories", lambda: PreparedChoices(category_choices(self.categories))
        )
        self.fields["street"].choices = self.places.street_choices()
        self.fields["community"].choices = self.places.community_choices()
        self.fields["building"].choices = self.places.building_choices()
        cascade = {"hx-get": _places_url(), "hx-target": "#place-fields",
                   "hx-swap": "outerHTML", "hx-include": "#place-fields"}
        self.fields["street"].widget.attrs.update(cascade)
        self.fields["community"].widget.attrs.update(cascade)
        self.location_unit: Unit | None = None
        self.building_obj: Building | None = None

    @property
    def honeypot_filled(self) -> bool:
        return bool(self.data.get("website", "").strip())

    def clean_category(self) -> Category:
        return self.categories.by_pk[int(self.cleaned_data["category"])]  # the choices hold active ones only

    def clean_resident_phone(self) -> str:
        return validate_mobile(self.cleaned_data["resident_phone"])

    def clean(self):
        cleaned = super().clean()
        if self.honeypot_filled:
            raise ValidationError(
                _("Your request could not be accepted. Please try again later."), code="honeypot"
            )
        self._resolve_place(cleaned)
        return cleaned

    def _resolve_place(self, cleaned: dict) -> None:
        street, community = self.places.street, self.places.community
        if self.places.mismatch:
            self.add_error("community", _("Choose a community of the chosen street."))
            return
        building = next((b for b in self.places.buildings if str(b.pk) == cleaned.get("building")), None)
        if building:
            self.building_obj, self.location_unit = building, building.unit
        elif community:
            self.location_unit = self._poster_grid(community) or community
        elif street:
            self.location_unit = street
            if not cleaned.get("address"):
                self.add_error("address", _("Choose your community, or describe the place."))
        else:
            self.add_error("street", _("Choose the street and community where it happened."))

    def _poster_grid(self, community: Unit) -> Unit | None:
        code = self.cleaned_data.get("unit")
        if not code:
            return None
        return Unit.objects.filter(code=code, level=Unit.Level.GRID, parent=community).first()

    def title(self) -> str:
        first_line = self.cleaned_data["description"].strip().splitlines()[0]
        return first_line[:40] + ("…" if len(first_line) > 40 else "")

    def intake_fields(self) -> dict:
        data = self.cleaned_data
        return {
            "source": Case.Source.WEB,
            "category": data["category"],
            "title": self.title(),
            "description": data["description"].strip(),
            "location_unit": self.location_unit,
            "building": self.building_obj,
            "street": self.places.street,
            "address": data["address"].strip(),
            "resident_name": data["resident_name"].strip(),
            "resident_phone": data["resident_phone"],
            "consent": data["consent"],
            "actor_label": str(_("Resident (web form)")),
            "photos": data.get("photos") or [],
        }


ReportForm.base_fields = QuickCopiedFields(ReportForm.base_fields)


def poster_unit(code: str) -> Unit | None:
    """The community or grid of a poster's ``?unit=<code>``."""
    if not code:
        return None
    return (
        Unit.objects.filter(code=code, level__in=[Unit.Level.COMMUNITY, Unit.Level.GRID])
        .select_related("parent")
        .first()
    )


def initial_for_unit(unit: Unit | None) -> dict:
    if unit is None:
        return {}
    community = unit if unit.level == Unit.Level.COMMUNITY else unit.parent
    return {"street": str(community.parent_id), "community": str(community.pk), "unit": unit.code}


class TrackForm(forms.Form):
    code = forms.CharField(
        label=_("Tracking code"), max_length=16,
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "autocomplete": "off", "spellcheck": "false"}),
    )
    phone_last4 = forms.CharField(
        label=_("Last four digits of your phone"), min_length=4, max_length=4,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )

    def clean_code(self) -> str:
        return re.sub(r"[\s\-]", "", self.cleaned_data["code"]).upper()

    def clean_phone_last4(self) -> str:
        value = self.cleaned_data["phone_last4"].strip()
        if not value.isdigit():
            raise ValidationError(_("Enter four digits."), code="digits")
        return value


class AddInformationForm(DecodePhotosLastMixin, forms.Form):
    text = forms.CharField(
        label=_("More information"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    photos = PhotosField(label=_("Photos"))


class RatingForm(forms.Form):
    resolved = forms.TypedChoiceField(
        label=_("Was your problem solved?"), widget=forms.RadioSelect,
        choices=[("yes", _("Yes, solved")), ("no", _("No, not solved"))],
        coerce=lambda value: value == "yes",
    )
    satisfaction = forms.ChoiceField(
        label=_("How satisfied are you with the handling?"), widget=forms.RadioSelect,
        choices=Case.Satisfaction.choices,
    )
    comment = forms.CharField(
        label=_("Comment"), max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
