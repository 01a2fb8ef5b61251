"""The request lifecycle: categories, cases, their timeline and what happens to them."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.encoding import force_str
from django.utils.translation import gettext_lazy as _

from communities.models import Building, Portfolio, Unit, follows_unit_path
from communities.phones import mask_phone

# PostgreSQL can range-scan a unit-path prefix (``LIKE '/1/4/%'``) in a many-column index only
# with the pattern operator class, whatever the database's collation (ignored elsewhere).
PREFIX = "varchar_pattern_ops"


class Urgency(models.TextChoices):
    EMERGENCY = "emergency", _("Emergency")
    URGENT = "urgent", _("Urgent (water, power, gas, heating)")
    ORDINARY = "ordinary", _("Ordinary")
    COMPLEX = "complex", _("Complex")


# 12345 standard defaults: (first contact within, resolve within). A category may override.
DEFAULT_DEADLINES: dict[str, tuple[timedelta, timedelta]] = {
    Urgency.EMERGENCY: (timedelta(minutes=30), timedelta(hours=2)),
    Urgency.URGENT: (timedelta(hours=2), timedelta(hours=24)),
    Urgency.ORDINARY: (timedelta(hours=24), timedelta(days=7)),
    Urgency.COMPLEX: (timedelta(hours=24), timedelta(days=15)),
}


class Category(models.Model):
    """A node of the request taxonomy (住房/物业 → 楼道照明 …)."""

    parent = models.ForeignKey(
        "self", verbose_name=_("parent category"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="children",
    )
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=60, help_text=_("The official category name."))
    public_name = models.CharField(
        _("plain-language name"), max_length=100, help_text=_("What residents see on the form.")
    )
    portfolio = models.CharField(_("responsible portfolio"), max_length=16, choices=Portfolio.choices)
    default_urgency = models.CharField(
        _("default urgency"), max_length=16, choices=Urgency.choices, default=Urgency.ORDINARY
    )
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)
    active = models.BooleanField(_("offered on forms"), default=True)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.name


class CategoryDeadline(models.Model):
    """A category's own deadlines for one urgency, where they differ from the defaults."""

    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="deadlines")
    urgency = models.CharField(_("urgency"), max_length=16, choices=Urgency.choices)
    contact_within = models.DurationField(_("first contact within"))
    resolve_within = models.DurationField(_("resolve within"))

    class Meta:
        verbose_name = _("category deadline")
        verbose_name_plural = _("category deadlines")
        constraints = [
            models.UniqueConstraint(fields=["category", "urgency"], name="deadline_unique_urgency")
        ]


# Unambiguous alphabet (no 0/O, 1/I/L): read aloud over the phone and typed on a phone.
TRACKING_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
TRACKING_CODE_LENGTH = 10
_UNBIASED_BELOW = 256 - 256 % len(TRACKING_ALPHABET)  # bytes at or above would favour the first letters


def new_tracking_code() -> str:
    """Ten letters drawn uniformly from the OS's random bytes, read at once (``secrets.choice``
    asked the OS for each letter); a byte that would bias the draw is skipped."""
    code = ""
    while len(code) < TRACKING_CODE_LENGTH:
        code += "".join(
            TRACKING_ALPHABET[byte % len(TRACKING_ALPHABET)] for byte in secrets.token_bytes(16) if byte < _UNBIASED_BELOW
        )
    return code[:TRACKING_CODE_LENGTH]


def new_public_id() -> str:
    """The id other systems and the public Open311 feed know a case by: random, so the feed
    cannot be walked by counting, and not the tracking code (which opens the resident's page)."""
    return secrets.token_hex(8)


_CHOICE_LABELS: dict = {}  # a choice field's values and their (lazy) labels


@follows_unit_path
class Case(models.Model):
    """A resident request (诉求 / 工单), whatever channel it came through."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted")
        DISPATCHED = "dispatched", _("Dispatched")
        ACCEPTED = "accepted", _("Accepted")
        CONTACTED = "contacted", _("Caller contacted")
        IN_PROGRESS = "in_progress", _("In progress")
        RESOLVED = "resolved", _("Resolved")
        CLOSED = "closed", _("Closed")
        RETURNED = "returned", _("Returned to dispatch")
        MERGED = "merged", _("Merged into another case")

    # The status groups, defined here only (``tests/cases/test_status_groups.py`` checks how they split
    # the statuses). OPEN and FINISHED split them; so do NOT_CLOSED and FINAL.
    OPEN = (Status.SUBMITTED, Status.DISPATCHED, Status.RETURNED, Status.ACCEPTED, Status.CONTACTED, Status.IN_PROGRESS)
    HANDLING = (Status.ACCEPTED, Status.CONTACTED, Status.IN_PROGRESS)  # accepted by a handler, not yet resolved
    TO_DISPATCH = (Status.SUBMITTED, Status.RETURNED)  # waiting for a dispatcher
    FINISHED = (Status.RESOLVED, Status.CLOSED, Status.MERGED)
    ANSWERED = (Status.RESOLVED, Status.CLOSED)  # the handling unit gave its answer: rated, counted as done
    NOT_CLOSED = (*OPEN, Status.RESOLVED)  # work still in hand somewhere (a resolved case awaits closing)
    FINAL = (Status.CLOSED, Status.MERGED)  # never left again

    class Source(models.TextChoices):
        WEB = "web", _("Resident web form")
        HOTLINE = "hotline", _("12345 hotline dispatch")
        WALK_IN = "walk_in", _("Walk-in window")
        HARD_TO_DO = "hard_to_do", _("'Could not get it done' window")
        GRID_PATROL = "grid_patrol", _("Grid patrol")
        VOLUNTEER = "volunteer", _("Volunteer report")
        MEETING = "meeting", _("Meeting agenda")
        API = "api", _("Connected system")

    class Kind(models.TextChoices):
        CONSULTATION = "consultation", _("Consultation")
        HELP = "help", _("Request for help")
        COMPLAINT = "complaint", _("Complaint")
        REPORT = "report", _("Report of wrongdoing")
        SUGGESTION = "suggestion", _("Suggestion")

    class Nature(models.TextChoices):
        REASONABLE = "reasonable", _("Reasonable request (handle on site)")
        UNREASONABLE = "unreasonable", _("Unreasonable request (persuade on site)")
        ADVICE = "advice", _("Consultation or suggestion (talk on site)")

    class Satisfaction(models.TextChoices):
        SATISFIED = "satisfied", _("Satisfied")
        BASIC = "basic", _("Basically satisfied")
        UNSATISFIED = "unsatisfied", _("Unsatisfied")

    # Unique by the constraints below, not ``unique=True``: that also builds a LIKE index on
    # PostgreSQL, and codes are only ever looked up whole.
    code = models.CharField(_("tracking code"), max_length=16, default=new_tracking_code)
    public_id = models.CharField(_("public id"), max_length=16, default=new_public_id, editable=False)
    hotline_order_no = models.CharField(_("12345 order number"), max_length=40, null=True, blank=True)
    source = models.CharField(_("channel"), max_length=16, choices=Source.choices)
    kind = models.CharField(_("type"), max_length=16, choices=Kind.choices, default=Kind.HELP)
    nature = models.CharField(_("nature"), max_length=16, choices=Nature.choices, blank=True)
    # No index of its own: case_category_received starts with it.
    category = models.ForeignKey(Category, verbose_name=_("category"), on_delete=models.PROTECT, db_index=False)
    urgency = models.CharField(_("urgency"), max_length=16, choices=Urgency.choices)
    title = models.CharField(_("summary"), max_length=120)
    description = models.TextField(_("what happened"))

    # Where it happened: the most precise unit known, a building, or a free address.
    location_unit = models.ForeignKey(
        Unit, verbose_name=_("place"), on_delete=models.PROTECT, related_name="located_cases"
    )
    building = models.ForeignKey(
        Building, verbose_name=_("building"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="cases", db_index=False,  # case_building_category starts with it
    )
    address = models.CharField(_("address"), max_length=200, blank=True)

    # Who answers for it: the handling unit (its subtree sees the case) and, once
    # accepted, the handler. ``unit_path`` copies the unit's path so scoping is one
    # indexed prefix filter on this table, even at millions of rows.
    unit = models.ForeignKey(
        Unit, verbose_name=_("handling unit"), on_delete=models.PROTECT, related_name="cases"
    )
    unit_path = models.CharField(max_length=255, editable=False)  # indexed first in case_scope_* below
    dispatching_unit = models.ForeignKey(
        Unit, verbose_name=_("dispatching unit"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="dispatched_cases", help_text=_("The tier that dispatched it and decides extensions."),
    )
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("handler"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="handled_cases",
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.SUBMITTED
    )
    merged_into = models.ForeignKey(
        "self", verbose_name=_("merged into"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="merged_cases",
    )
    # A merged case's caller waits for the return visit of the lead's result: set when the lead is
    # resolved, cleared when they rate it or the lead reopens (``services.common.compare_and_set``).
    # Kept so the queue and the dashboards count them from a small index, not by joining every
    # merged case to its lead.
    awaits_visit = models.BooleanField(
        _("caller awaits the return visit"), default=False, db_default=False, editable=False  # db_default: hosts
    )  # not yet upgraded keep inserting while the migration runs (a rolling deploy)
    is_supervised = models.BooleanField(_("under supervision"), default=False)
    excluded_from_rates = models.BooleanField(_("excluded from the rates"), default=False)
    exclusion_reason = models.CharField(_("reason for exclusion"), max_length=200, blank=True)

    # The caller. Masked everywhere except for the current handler (see selectors).
    resident_name = models.CharField(_("name"), max_length=50, blank=True)
    resident_phone = models.CharField(_("phone"), max_length=20, blank=True)
    consent_at = models.DateTimeField(_("consent to use of personal data"), null=True, blank=True)
    # Set by `anonymise_closed_cases` once the caller's personal data is gone (cases.retention).
    anonymised_at = models.DateTimeField(_("personal data removed"), null=True, blank=True, editable=False)

    received_at = models.DateTimeField(_("received"))
    dispatched_at = models.DateTimeField(_("dispatched"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    contacted_at = models.DateTimeField(_("first contact"), null=True, blank=True)
    # When the resolution was recorded (the click); ``resolved_on`` is the day it was actually resolved.
    resolved_at = models.DateTimeField(_("resolution recorded"), null=True, blank=True)
    resolved_on = models.DateField(_("resolved on"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    contact_due_at = models.DateTimeField(_("first contact due"), null=True, blank=True)
    resolve_due_at = models.DateTimeField(_("resolution due"), null=True, blank=True, db_index=True)
    result = models.TextField(_("result"), blank=True)

    # The current return-visit rating (history in ReturnVisit).
    rated_at = models.DateTimeField(_("rated"), null=True, blank=True)
    rated_resolved = models.BooleanField(_("resolved, as the caller says"), null=True, blank=True)
    satisfaction = models.CharField(
        _("satisfaction"), max_length=16, choices=Satisfaction.choices, blank=True
    )

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(fields=["code"], name="case_code_unique"),
            models.UniqueConstraint(fields=["public_id"], name="case_public_id_unique"),
            # Only hotline cases have an order number: the index holds those alone.
            models.UniqueConstraint(
                fields=["hotline_order_no"], condition=models.Q(hotline_order_no__isnull=False),
                name="case_hotline_order_unique",
                violation_error_message=_("A case was already made from this 12345 order number."),
            ),
        ]
        indexes = [
            models.Index(fields=["status"], name="case_status"),
            models.Index(fields=["unit_path", "status"], name="case_scope_status", opclasses=[PREFIX, "text_ops"]),
            models.Index(
                fields=["unit_path", "received_at"], name="case_scope_received", opclasses=[PREFIX, "timestamptz_ops"]
            ),
            models.Index(fields=["category", "received_at"], name="case_category_received"),
            models.Index(fields=["building", "category", "received_at"], name="case_building_category"),
            # The month's hotspots and busiest buildings are read from this index alone (PostgreSQL).
            models.Index(
                fields=["received_at"], include=["unit_path", "location_unit", "building", "category"],
                name="case_received_cover",
            ),
            # The work in hand (open, overdue, due today …): a small index of the unfinished cases only.
            models.Index(
                fields=["unit_path", "resolve_due_at"], include=["status", "is_supervised"],
                opclasses=[PREFIX, "timestamptz_ops"],
                condition=models.Q(status__in=["submitted", "dispatched", "returned", "accepted", "contacted",
                                        "in_progress", "resolved"]),
                name="case_unfinished",
            ),
            # The merged callers waiting for the return visit of their lead's result.
            models.Index(
                fields=["unit_path"], opclasses=[PREFIX], condition=models.Q(status="merged", awaits_visit=True),
                name="case_merged_awaiting_visit",
            ),
            # The oldest overdue cases at a top tier: the first open cases by deadline, in index order.
            # …and the overdue and due-today counts, read from this index alone up to today's end.
            models.Index(
                fields=["resolve_due_at", "id"], include=["unit_path"],
                condition=models.Q(status__in=["submitted", "dispatched", "returned", "accepted", "contacted",
                                        "in_progress"]),
                name="case_open_by_due",
            ),
        ]
        permissions = [
            ("dispatch_case", _("Can dispatch, route and reassign cases")),
            ("handle_case", _("Can accept and handle cases")),
            ("supervise_case", _("Can put cases under supervision")),
            ("decide_extension", _("Can approve or refuse extensions")),
            ("record_return_visit", _("Can record a phone return visit")),
            ("import_cases", _("Can import hotline dispatch files")),
            ("export_case", _("Can export case lists")),
            ("reveal_phone", _("Can reveal a caller's full phone number")),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("cases:detail", kwargs={"code": self.code})

    def _get_FIELD_display(self, field) -> str:
        # Django's builds a dict of every choice on each call, hashing each lazy label, i.e. one
        # translation lookup per choice (0.1 ms a call): the case page shows a dozen of them.
        labels = _CHOICE_LABELS.get(field)
        if labels is None:
            labels = _CHOICE_LABELS[field] = dict(field.flatchoices)  # labels left lazy: any language
        return force_str(labels.get(getattr(self, field.attname), getattr(self, field.attname)), strings_only=True)

    def save(self, *args, **kwargs) -> None:
        update_fields = kwargs.get("update_fields")
        if self.unit_id and (update_fields is None or "unit" in update_fields):
            self.unit_path = self._unit_path()
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "unit_path"}
        super().save(*args, **kwargs)

    def _unit_path(self) -> str:
        # The unit the caller assigned is usually at hand (intake's street, dispatch's target): no query.
        unit = self._state.fields_cache.get("unit")
        if unit is not None and unit.pk == self.unit_id and "path" not in unit.get_deferred_fields():
            return unit.path
        return Unit.objects.values_list("path", flat=True).get(pk=self.unit_id)

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.resident_phone)


class CoHandling(models.Model):
    """A unit that assists the lead handling unit on one case (双派); it sees the case."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="co_handlings")
    unit = models.ForeignKey(Unit, verbose_name=_("co-handling unit"), on_delete=models.PROTECT)
    unit_path = models.CharField(max_length=255, editable=False, db_index=True)
    added_at = models.DateTimeField(auto_now_add=True)
    # The co-handling unit's own part reported done (the lead handler still resolves the case).
    done_at = models.DateTimeField(_("part done"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("reported by"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )
    done_note = models.TextField(_("what the unit did"), blank=True)

    class Meta:
        verbose_name = _("co-handling unit")
        verbose_name_plural = _("co-handling units")
        constraints = [models.UniqueConstraint(fields=["case", "unit"], name="cohandling_unique")]

    def save(self, *args, **kwargs) -> None:
        self.unit_path = Unit.objects.values_list("path", flat=True).get(pk=self.unit_id)
        super().save(*args, **kwargs)


follows_unit_path(CoHandling)


class TimelineEvent(models.Model):
    """One immutable line of a case's history: who did what, when, from which state to which."""

    # Both read through event_case_at alone (a case's history in order): no index of their own.
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events", db_index=False)
    at = models.DateTimeField(_("when"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )
    actor_label = models.CharField(
        _("by (label)"), max_length=100, blank=True,
        help_text=_("Shown when there is no staff actor, e.g. the resident or the 12345 platform."),
    )
    action = models.CharField(_("action"), max_length=32)
    from_status = models.CharField(_("from"), max_length=16, blank=True)
    to_status = models.CharField(_("to"), max_length=16, blank=True)
    note = models.TextField(_("note"), blank=True)
    public = models.BooleanField(_("visible to the resident"), default=False)
    data = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("timeline event")
        verbose_name_plural = _("timeline events")
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["case", "at"], name="event_case_at")]

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ValueError("Timeline events are immutable.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Timeline events are immutable.")


class ContactRecord(models.Model):
    """首问负责制: the handler's contact with the caller — how, what was said, what was promised."""

    class Method(models.TextChoices):
        PHONE = "phone", _("Phone call")
        VISIT = "visit", _("On-site visit")
        MESSAGE = "message", _("Message")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="contacts")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("when"))
    method = models.CharField(_("how"), max_length=16, choices=Method.choices)
    summary = models.TextField(_("what was said"))
    arrangement = models.TextField(_("arrangement"), blank=True)
    promised_date = models.DateField(_("promised date"), null=True, blank=True)

    class Meta:
        verbose_name = _("contact with the caller")
        verbose_name_plural = _("contacts with the caller")
        ordering = ["at"]


def attachment_path(instance: Attachment, filename: str) -> str:
    return f"cases/{instance.case_id}/{secrets.token_hex(16)}.{instance.extension}"


class Attachment(models.Model):
    """A photo added by the resident or staff. Served only through a view that checks access."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="attachments")
    event = models.ForeignKey(
        TimelineEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="attachments"
    )
    file = models.FileField(upload_to=attachment_path)
    content_type = models.CharField(max_length=50)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    public = models.BooleanField(_("visible to the resident"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    @property
    def extension(self) -> str:
        return {"image/jpeg": "jpg", "image/png": "png"}.get(self.content_type, "bin")


class Supervision(models.Model):
    """督办: a higher tier flags a case with a comment and a due time."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="supervisions")
    unit = models.ForeignKey(Unit, verbose_name=_("supervising unit"), on_delete=models.PROTECT)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    comment = models.TextField(_("comment"))
    due_at = models.DateTimeField(_("answer due"))
    created_at = models.DateTimeField(auto_now_add=True)
    lifted_at = models.DateTimeField(_("lifted"), null=True, blank=True)

    class Meta:
        verbose_name = _("supervision")
        verbose_name_plural = _("supervisions")
        ordering = ["-created_at"]


class ExtensionRequest(models.Model):
    """延期: the handler asks for more time; the dispatching tier approves or refuses."""

    class Decision(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REFUSED = "refused", _("Refused")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="extensions")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    reason = models.TextField(_("reason"))
    new_due_at = models.DateTimeField(_("new resolution deadline"))
    decision = models.CharField(
        _("decision"), max_length=16, choices=Decision.choices, default=Decision.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)

    class Meta:
        verbose_name = _("extension request")
        verbose_name_plural = _("extension requests")
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=models.Q(decision="pending"), name="one_pending_extension"
            )
        ]


class ReturnVisit(models.Model):
    """回访: one rating by the caller (on the status page or by phone). History of every rating."""

    class Channel(models.TextChoices):
        WEB = "web", _("Status page")
        PHONE = "phone", _("Phone return visit")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="return_visits")
    at = models.DateTimeField(_("when"))
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved = models.BooleanField(_("resolved"))
    satisfaction = models.CharField(_("satisfaction"), max_length=16, choices=Case.Satisfaction.choices)
    comment = models.TextField(_("comment"), blank=True)

    class Meta:
        verbose_name = _("return visit")
        verbose_name_plural = _("return visits")
        ordering = ["at"]


class PhoneReveal(models.Model):
    """Append-only log of who opened a caller's full phone number, and when."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="phone_reveals")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    reason = models.CharField(_("reason"), max_length=500, blank=True)  # required once the case is finished

    class Meta:
        verbose_name = _("phone number reveal")
        verbose_name_plural = _("phone number reveals")


class Notification(models.Model):
    """An in-app notice to one staff user about one case."""

    class Kind(models.TextChoices):
        DISPATCHED = "dispatched", _("New dispatch")
        CONTACT_DUE = "contact_due", _("First contact due soon")
        RESOLVE_DUE = "resolve_due", _("Resolution due soon")
        OVERDUE = "overdue", _("Overdue, escalated")
        SUPERVISED = "supervised", _("Put under supervision")
        EXTENSION_DECIDED = "extension_decided", _("Extension decided")
        REOPENED = "reopened", _("Reopened after return visit")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    message = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at"]
        constraints = [
            # The reminder command may run often; one reminder of a kind per case and user.
            models.UniqueConstraint(
                fields=["user", "case", "kind"],
                condition=models.Q(kind__in=["contact_due", "resolve_due", "overdue"]),
                name="one_reminder_per_kind",
            )
        ]


class MonthlyScore(models.Model):
    """A unit's 三率 for one month, frozen when the month is closed so rankings stay put."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="monthly_scores")
    month = models.DateField(_("month"), help_text=_("First day of the month."))
    dispatched = models.PositiveIntegerField(default=0)
    contacted_on_time = models.PositiveIntegerField(default=0)
    rated = models.PositiveIntegerField(default=0)
    rated_resolved = models.PositiveIntegerField(default=0)
    satisfied = models.PositiveIntegerField(default=0)
    basically_satisfied = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)  # resolved or closed when frozen (办结率)
    response_rate = models.DecimalField(max_digits=6, decimal_places=4, null=True)
    resolution_rate = models.DecimalField(max_digits=6, decimal_places=4, null=True)
    satisfaction_rate = models.DecimalField(max_digits=6, decimal_places=4, null=True)
    composite = models.DecimalField(max_digits=6, decimal_places=2, null=True)
    frozen_at = models.DateTimeField()

    class Meta:
        verbose_name = _("monthly score")
        verbose_name_plural = _("monthly scores")
        ordering = ["-month", "unit__path"]
        constraints = [models.UniqueConstraint(fields=["unit", "month"], name="score_unique_month")]


class TallyCounts(models.Model):
    """How many cases a unit handles that were received in a period, and the 三率 counts among them.

    Kept exact by ``cases.tallies`` in the transaction of every change to a case, so the
    dashboards read a few hundred rows instead of every case of the month.
    """

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="+")
    unit_path = models.CharField(max_length=255)
    received = models.PositiveIntegerField(default=0)  # every case, the volume figures
    dispatched = models.PositiveIntegerField(default=0)  # the rest count only what the rates count
    contacted_on_time = models.PositiveIntegerField(default=0)
    rated = models.PositiveIntegerField(default=0)
    rated_resolved = models.PositiveIntegerField(default=0)
    satisfied = models.PositiveIntegerField(default=0)
    basically_satisfied = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)  # resolved or closed now (办结率)

    class Meta:
        abstract = True


@follows_unit_path
class DayTally(TallyCounts):
    """Cases received on one day (Beijing time) and handled by one unit."""

    day = models.DateField()

    class Meta:
        verbose_name = _("day tally")
        verbose_name_plural = _("day tallies")
        constraints = [models.UniqueConstraint(fields=["day", "unit"], name="day_tally_unique")]
        indexes = [
            models.Index(fields=["unit_path", "day"], name="day_tally_scope", opclasses=[PREFIX, "date_ops"]),
            # A top tier's month (every unit's days). No counter is indexed (not even as an INCLUDE):
            # a submission's upsert of its tally row then stays a HOT update on PostgreSQL, one new
            # row version on the same page and no new index entries, instead of a new entry in every
            # index of a row every submission of the day rewrites.
            models.Index(fields=["day", "unit_path"], name="day_tally_day", opclasses=["date_ops", PREFIX]),
        ]


@follows_unit_path
class CategoryTally(models.Model):
    """Cases of one category received in one month and handled by one unit."""

    month = models.DateField(help_text=_("First day of the month."))
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="+")
    unit_path = models.CharField(max_length=255)
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="+")
    received = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("category tally")
        verbose_name_plural = _("category tallies")
        constraints = [models.UniqueConstraint(fields=["month", "unit", "category"], name="category_tally_unique")]
        indexes = [
            models.Index(fields=["unit_path", "month"], name="category_tally_scope", opclasses=[PREFIX, "date_ops"]),
            models.Index(  # the counter left out, as for the day tallies
                fields=["month", "unit_path"], name="category_tally_month", opclasses=["date_ops", PREFIX],
            ),
        ]


@follows_unit_path
class WorkTally(models.Model):
    """How many cases one unit has in hand in one state (the dashboards' work figures).

    Kept exact by ``cases.tallies`` in the transaction of every change, like the day tallies:
    a top tier then sums a few thousand rows (units × states) instead of reading every
    unfinished case. Only work in hand is kept: the states before closing, and merged callers
    still waiting for the return visit of their lead's result. What depends on the clock
    (overdue, due today) is counted from the cases at read time.
    """

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="+")
    unit_path = models.CharField(max_length=255)
    status = models.CharField(max_length=16)
    is_supervised = models.BooleanField()
    awaits_visit = models.BooleanField()
    cases = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("work tally")
        verbose_name_plural = _("work tallies")
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "status", "is_supervised", "awaits_visit"], name="work_tally_unique"
            )
        ]
        indexes = [models.Index(fields=["unit_path"], name="work_tally_scope", opclasses=[PREFIX])]


HOTSPOT_MIN_CASES = 3  # a place and category listed as a hotspot came back at least this often


class HotspotTally(models.Model):
    """Cases of one category at one place received in one month and handled under a top tier.

    The dashboards' hotspots of the area and its streets (the two tiers whose month is tens of
    thousands of cases): one row per tier unit, month, place, building and category, so their
    top ten is read in the order of an index instead of grouping every case of the month. The
    tiers below count their own cases (a few hundred a month). ``unit_path`` is the tier's path;
    ``cases.tallies`` keeps the rows exact like the other tallies (and recounts a tier whose
    units move).
    """

    MIN_CASES = HOTSPOT_MIN_CASES
    TIER_DEPTHS = 2  # the area (depth 0) and its streets (depth 1)

    month = models.DateField(help_text=_("First day of the month."))
    unit_path = models.CharField(max_length=255)
    # Plain keys, not foreign keys: no constraint to check on the public form's insert.
    place = models.PositiveIntegerField(help_text=_("The case's location unit."))
    building = models.PositiveIntegerField(default=0, help_text=_("The case's building, 0 for none."))
    category = models.PositiveIntegerField()
    received = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("hotspot tally")
        verbose_name_plural = _("hotspot tallies")
        constraints = [
            models.UniqueConstraint(
                fields=["unit_path", "month", "place", "building", "category"], name="hotspot_tally_unique"
            )
        ]
        indexes = [
            # The month's top ten of a tier in the dashboards' order: ten index entries read. Only
            # the rows that can be listed are in it (changing the minimum makes a migration).
            models.Index(
                fields=["unit_path", "month", "-received", "place", "building", "category"],
                name="hotspot_tally_top", condition=models.Q(received__gte=HOTSPOT_MIN_CASES),
            ),
        ]
