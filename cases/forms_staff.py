"""Forms of the staff pages: intake and the actions on one case.

Forms only validate input; the services decide whether the move is allowed.
Unit choices are built once per page from the user's visible units (``units=``)
so a case page with several unit selects runs one unit query, not one per select.
"""

from __future__ import annotations

import re

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from communities.models import Building, Unit
from communities.phones import TYPED_PHONE_INVALID, TYPED_PHONE_PATTERN

from .models import Case, Category, ContactRecord, ExtensionRequest, Supervision, Urgency
from .uploads import DecodePhotosLastMixin, check_photos
from .widgets import DateInput, DateTimeInput, UnitChoiceField, UnitMultipleChoiceField, unit_label

STAFF_SOURCES = [
    (value, label) for value, label in Case.Source.choices if value not in (Case.Source.WEB, Case.Source.API)
]


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Up to five photos, header-checked here (cases.uploads.check_photos); the form decodes them last."""

    widget = MultipleFileInput(attrs={"accept": "image/jpeg,image/png"})

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", _("Photos"))
        kwargs.setdefault("help_text", _("JPEG or PNG, at most five, 10 MB each."))
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, (list, tuple)) else [data]
        files = [f for f in files if f]
        if not files:
            return []
        return check_photos([super(PhotosField, self).clean(f, initial) for f in files])


class UnitsFormMixin:
    """Limits every unit field to ``units`` (the user's subtree, a queryset).

    ``unit_list``, when given, is that queryset already evaluated: the page renders
    every unit select from it instead of querying once per select.
    """

    unit_fields: tuple[str, ...] = ()

    def __init__(self, *args, units=None, unit_list: list[Unit] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if units is None:
            return
        for name in self.unit_fields:
            field = self.fields[name]
            field.queryset = units
            if unit_list is not None:
                base = min((unit.depth for unit in unit_list), default=0)
                choices = [(unit.pk, unit_label(unit, base)) for unit in unit_list]
                if not isinstance(field, forms.ModelMultipleChoiceField):
                    choices = [("", "---------"), *choices]
                field.choices = choices


class DispatchForm(UnitsFormMixin, forms.Form):
    unit_fields = ("to_unit", "co_units")
    to_unit = UnitChoiceField(Unit.objects.all(), label=_("Handling unit"))
    co_units = UnitMultipleChoiceField(
        Unit.objects.all(), label=_("Co-handling units"), required=False,
        help_text=_("Units that assist the handling unit (双派)."),
    )
    note = forms.CharField(label=_("Instructions"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ReassignForm(UnitsFormMixin, forms.Form):
    unit_fields = ("to_unit",)
    to_unit = UnitChoiceField(Unit.objects.all(), label=_("New handling unit"))
    note = forms.CharField(label=_("Why"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class CoHandlerForm(UnitsFormMixin, forms.Form):
    unit_fields = ("unit",)
    unit = UnitChoiceField(Unit.objects.all(), label=_("Co-handling unit"))


class EmptyForm(forms.Form):
    """Actions that need no input (accept)."""


class RevealPhoneForm(forms.Form):
    """Opening the caller's full number: once the case is finished, only with a reason."""

    reason = forms.CharField(
        label=_("Why do you need the number now?"), max_length=500, required=False,
        help_text=_("The case is finished; the reason is kept in the security log."),
    )

    def __init__(self, *args, needs_reason: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.needs_reason = needs_reason
        if needs_reason:
            self.fields["reason"].required = True
        else:
            self.fields["reason"].widget = forms.HiddenInput()


class ReturnForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for returning"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Why this is not for your unit; the dispatcher reads it."),
    )


class ContactForm(forms.Form):
    method = forms.ChoiceField(label=_("How"), choices=ContactRecord.Method.choices)
    summary = forms.CharField(label=_("What was said"), widget=forms.Textarea(attrs={"rows": 2}))
    arrangement = forms.CharField(
        label=_("Arrangement"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    promised_date = forms.DateField(
        label=_("Promised date"), required=False, widget=DateInput()
    )
    at = forms.DateTimeField(
        label=_("When"), required=False, widget=DateTimeInput(),
        help_text=_("Leave empty for now."),
    )


class ProgressForm(DecodePhotosLastMixin, forms.Form):
    note = forms.CharField(label=_("Progress"), widget=forms.Textarea(attrs={"rows": 3}))
    public = forms.BooleanField(label=_("Show to the resident"), required=False)
    photos = PhotosField()


class ExtensionRequestForm(forms.Form):
    new_due_at = forms.DateTimeField(label=_("New resolution deadline"), widget=DateTimeInput())
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))


class ExtensionDecisionForm(forms.Form):
    extension = forms.ModelChoiceField(ExtensionRequest.objects.none(), widget=forms.HiddenInput)
    approve = forms.TypedChoiceField(
        label=_("Decision"),
        choices=[("yes", _("Approve")), ("no", _("Refuse"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, case: Case, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["extension"].queryset = case.extensions.filter(
            decision=ExtensionRequest.Decision.PENDING
        )


class ResolveForm(forms.Form):
    nature = forms.ChoiceField(label=_("Nature of the request"), choices=Case.Nature.choices)
    result = forms.CharField(label=_("Result"), widget=forms.Textarea(attrs={"rows": 3}))
    resolved_on = forms.DateField(
        label=_("Resolved on"), required=False, widget=DateInput(),
        help_text=_("The day it was actually resolved (today if left empty); not before it was received."),
    )


class CoHandlingDoneForm(forms.Form):
    note = forms.CharField(
        label=_("What your unit did"), widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Your unit's part is done; the handling unit resolves the case."),
    )


class CloseForm(forms.Form):
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class SuperviseForm(forms.Form):
    unit = UnitChoiceField(Unit.objects.none(), label=_("On behalf of"))
    comment = forms.CharField(label=_("Comment"), widget=forms.Textarea(attrs={"rows": 2}))
    due_at = forms.DateTimeField(label=_("Answer due"), widget=DateTimeInput())

    def __init__(self, *args, own_units: list[Unit], **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["unit"]
        field.queryset = Unit.objects.filter(pk__in=[unit.pk for unit in own_units])
        field.choices = [(unit.pk, unit_label(unit)) for unit in own_units]
        if len(own_units) == 1:
            self.initial.setdefault("unit", own_units[0].pk)


class LiftSupervisionForm(forms.Form):
    supervision = forms.ModelChoiceField(Supervision.objects.none(), widget=forms.HiddenInput)
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, case: Case, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["supervision"].queryset = case.supervisions.filter(lifted_at__isnull=True)


class ReturnVisitForm(forms.Form):
    resolved = forms.TypedChoiceField(
        label=_("Does the caller say it is resolved?"),
        choices=[("yes", _("Resolved")), ("no", _("Not resolved"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )
    satisfaction = forms.ChoiceField(
        label=_("Satisfaction"), choices=Case.Satisfaction.choices, widget=forms.RadioSelect
    )
    comment = forms.CharField(label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class MergeForm(forms.Form):
    into = forms.CharField(
        label=_("Tracking code of the lead case"), max_length=16,
        help_text=_("This case becomes a duplicate of that one."),
    )
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, cases=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.cases = cases

    def clean_into(self) -> Case:
        code = self.cleaned_data["into"].strip().upper()
        lead = self.cases.filter(code=code).first() if self.cases is not None else None
        if lead is None:
            raise forms.ValidationError(_("No case you can see has this tracking code."))
        return lead


class CodesInput(forms.Textarea):
    """Tracking codes typed (any separator) or ticked in a list of checkboxes of the same name."""

    def value_from_datadict(self, data, files, name):
        return " ".join(data.getlist(name)) if hasattr(data, "getlist") else data.get(name, "")


class MergeDuplicatesForm(forms.Form):
    """Many duplicates into this case (the lead) at once."""

    cases = forms.CharField(
        label=_("Tracking codes of the duplicates"), widget=CodesInput(attrs={"rows": 3}),
        help_text=_("Separated by spaces or commas. They become duplicates of this case, all or none."),
    )
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, case=None, cases=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.case, self.visible = case, cases

    def clean_cases(self) -> list[Case]:
        typed = re.split(r"[\s,，;；、]+", self.cleaned_data["cases"])
        codes = list(dict.fromkeys(code.upper() for code in typed if code))
        if self.case is not None:
            codes = [code for code in codes if code != self.case.code]  # the lead ticked among its matches
        if not codes:
            raise forms.ValidationError(_("Give the tracking codes of the cases to merge into this one."))
        found = {case.code: case for case in self.visible.filter(code__in=codes)} if self.visible is not None else {}
        unknown = [code for code in codes if code not in found]
        if unknown:
            raise forms.ValidationError(
                _("No case you can see has these tracking codes: %(codes)s.") % {"codes": ", ".join(unknown)}
            )
        return [found[code] for code in codes]


class ExcludeForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for excluding it from the rates"), max_length=200,
        help_text=_("e.g. a malicious repeat call, or outside the government's remit."),
    )


class IntakeForm(DecodePhotosLastMixin, UnitsFormMixin, forms.Form):
    """A request taken by staff: a 12345 dispatch, a window, a patrol, a volunteer, a meeting."""

    unit_fields = ("location_unit",)

    source = forms.ChoiceField(label=_("Channel"), choices=STAFF_SOURCES)
    hotline_order_no = forms.CharField(
        label=_("12345 order number"), max_length=40, required=False,
        help_text=_("Required for a 12345 dispatch; the same number is never taken twice."),
    )
    received_at = forms.DateTimeField(
        label=_("Received"), required=False, widget=DateTimeInput(),
        help_text=_("Leave empty for now."),
    )
    contact_due_at = forms.DateTimeField(
        label=_("Contact due (from the hotline)"), required=False, widget=DateTimeInput()
    )
    resolve_due_at = forms.DateTimeField(
        label=_("Resolution due (from the hotline)"), required=False, widget=DateTimeInput()
    )
    category = forms.ModelChoiceField(Category.objects.filter(active=True), label=_("Category"))
    urgency = forms.ChoiceField(
        label=_("Urgency"), choices=[("", _("The category's default")), *Urgency.choices], required=False
    )
    kind = forms.ChoiceField(label=_("Type"), choices=Case.Kind.choices, initial=Case.Kind.HELP)
    title = forms.CharField(label=_("Summary"), max_length=120)
    description = forms.CharField(label=_("What happened"), widget=forms.Textarea(attrs={"rows": 4}))
    location_unit = UnitChoiceField(Unit.objects.all(), label=_("Place (grid or community)"))
    building = forms.ModelChoiceField(Building.objects.none(), label=_("Building"), required=False)
    address = forms.CharField(label=_("Address"), max_length=200, required=False)
    resident_name = forms.CharField(label=_("Caller's name"), max_length=50, required=False)
    resident_phone = forms.RegexField(
        label=_("Caller's phone"), regex=TYPED_PHONE_PATTERN, max_length=20, required=False,
        error_messages={"invalid": TYPED_PHONE_INVALID},
    )
    consent = forms.BooleanField(
        label=_("The caller agrees that we keep their name and phone for this request"), required=False
    )
    photos = PhotosField()
    save_anyway = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, buildings=None, **kwargs):
        super().__init__(*args, **kwargs)
        if buildings is not None:
            self.fields["building"].queryset = buildings

    def clean(self):
        data = super().clean()
        if data.get("source") == Case.Source.HOTLINE and not data.get("hotline_order_no"):
            self.add_error("hotline_order_no", _("A 12345 dispatch needs its order number."))
        if data.get("source") != Case.Source.HOTLINE:
            # Only the hotline sends its own order number and deadlines.
            for name in ("hotline_order_no", "contact_due_at", "resolve_due_at"):
                data[name] = None
        received = data.get("received_at")
        if received and received > timezone.now():
            self.add_error("received_at", _("The received time cannot be in the future."))
        return data

    FIELDSETS = [
        (_("Channel"), ("source", "hotline_order_no", "received_at", "contact_due_at", "resolve_due_at")),
        (_("Request"), ("category", "urgency", "kind", "title", "description")),
        (_("Place"), ("location_unit", "building", "address")),
        (_("Caller"), ("resident_name", "resident_phone", "consent", "photos")),
    ]

    def fieldsets(self) -> list:
        return [(legend, [self[name] for name in names]) for legend, names in self.FIELDSETS]

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        names = (
            "source", "category", "kind", "title", "description", "location_unit", "building",
            "address", "resident_name", "resident_phone", "consent", "received_at",
            "hotline_order_no", "contact_due_at", "resolve_due_at", "photos",
        )
        kwargs = {name: data.get(name) for name in names}
        kwargs["urgency"] = data.get("urgency") or None
        for name in ("address", "resident_name", "resident_phone"):
            kwargs[name] = kwargs[name] or ""
        kwargs["photos"] = kwargs["photos"] or ()
        return kwargs
