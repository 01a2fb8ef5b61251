"""The volunteer corps: teams, people and their skills, activities, sign-ups, the hours
ledger, tasks handed over from cases, 党员包楼 assignments and suggestions (建言献策).

Tables that grow with use (volunteers, activities, ledger entries, suggestions) copy
their unit's materialised path as ``unit_path`` so scoping is one indexed prefix
filter; they register with ``communities.models.follows_unit_path`` so a move of the
tree keeps the copies right.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cases.models import PREFIX, Case, Category
from communities.models import PATH_SEPARATOR, Building, Unit, follows_unit_path
from communities.phones import mask_phone


# What an anonymised volunteer's unique, required phone column holds: never a mobile number
# (letters, and a '#' no form or import lets through), unique by the primary key.
PHONE_PLACEHOLDER = "anon#{pk}#"


def anonymised_label(pk: int) -> str:
    """How pages name a volunteer whose personal data was removed."""
    return gettext("Anonymised #%(number)s") % {"number": pk}


class UnitPathMixin(models.Model):
    """Keeps ``unit_path`` equal to the unit's path on every save that may change the unit."""

    unit_path = models.CharField(max_length=255, editable=False, db_index=True)

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        update_fields = kwargs.get("update_fields")
        if self.unit_id and (update_fields is None or "unit" in update_fields):
            self.unit_path = Unit.objects.values_list("path", flat=True).get(pk=self.unit_id)
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "unit_path"}
        super().save(*args, **kwargs)


class Skill(models.Model):
    """Something a volunteer can do (repairs, haircuts, patrols …); it fits some case categories."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=40)
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)
    categories = models.ManyToManyField(
        Category, verbose_name=_("fits cases of"), blank=True, related_name="volunteer_skills",
        help_text=_("Volunteers with this skill are suggested for tasks from cases in these categories."),
    )

    class Meta:
        verbose_name = _("skill")
        verbose_name_plural = _("skills")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.name


class Team(models.Model):
    """A volunteer team of a unit (老工友志愿者, 365党员义工服务队, 楼门长 …)."""

    class Kind(models.TextChoices):
        VETERAN_WORKERS = "veteran_workers", _("Veteran-worker volunteers")
        PARTY_365 = "party_365", _("365 party-member volunteer team")
        IN_SERVICE_PARTY = "in_service_party", _("In-service party members reporting")
        BUILDING_HEADS = "building_heads", _("Building heads")
        CIVILITY_GUIDES = "civility_guides", _("Civility guides")
        ALLEY_STEWARDS = "alley_stewards", _("Alley stewards")
        GOVERNANCE_MONITORS = "governance_monitors", _("Social governance monitors")
        HARMONY_PROMOTERS = "harmony_promoters", _("Harmony promoters")
        PATROL = "patrol", _("Patrol team")
        OTHER = "other", _("Other")

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    unit = models.ForeignKey(Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="volunteer_teams")
    leader = models.ForeignKey(
        "Volunteer", verbose_name=_("leader"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="led_teams",
    )
    description = models.TextField(_("description"), blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("volunteer team")
        verbose_name_plural = _("volunteer teams")
        ordering = ["unit__path", "name"]
        constraints = [models.UniqueConstraint(fields=["unit", "name"], name="team_unique_name_in_unit")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("volunteers:team", kwargs={"pk": self.pk})


@follows_unit_path
class Volunteer(UnitPathMixin):
    """A person in the corps. May or may not have a login (``user``)."""

    class Status(models.TextChoices):
        APPLIED = "applied", _("Applied")
        ACTIVE = "active", _("Active")
        PAUSED = "paused", _("Paused")
        LEFT = "left", _("Left")
        DECLINED = "declined", _("Application declined")

    class Source(models.TextChoices):
        SELF = "self", _("Registered online")
        STAFF = "staff", _("Added by staff")
        IMPORT = "import", _("Roster import")

    name = models.CharField(_("name"), max_length=50)
    phone = models.CharField(_("mobile phone"), max_length=20, unique=True)
    unit = models.ForeignKey(
        Unit, verbose_name=_("home community or grid"), on_delete=models.PROTECT, related_name="volunteers"
    )
    building = models.ForeignKey(
        Building, verbose_name=_("building"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="volunteers",
    )
    party_member = models.BooleanField(_("party member"), default=False)
    party_since = models.DateField(_("party member since"), null=True, blank=True)
    employer_party_org = models.CharField(
        _("reports from (party organisation)"), max_length=100, blank=True,
        help_text=_("For in-service party members (在职党员报到): the party organisation of their employer."),
    )
    reported_on = models.DateField(_("reported to the community on"), null=True, blank=True)
    skills = models.ManyToManyField(Skill, verbose_name=_("skills"), blank=True, related_name="volunteers")
    availability = models.CharField(
        _("availability"), max_length=200, blank=True, help_text=_("e.g. weekday mornings, weekends.")
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.APPLIED)
    source = models.CharField(_("how they joined"), max_length=16, choices=Source.choices, default=Source.STAFF)
    note = models.TextField(_("note"), blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("login account"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="volunteer",
    )
    applied_at = models.DateTimeField(_("applied"), null=True, blank=True)
    decided_at = models.DateTimeField(_("application decided"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    anonymised_at = models.DateTimeField(_("personal data removed"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("volunteer")
        verbose_name_plural = _("volunteers")
        ordering = ["unit_path", "name"]
        indexes = [
            models.Index(fields=["unit_path", "status"], name="volunteer_scope_status", opclasses=[PREFIX, "text_ops"]),
            # The dashboards count the active volunteers and party members from this index alone.
            models.Index(
                fields=["unit_path"], include=["party_member"], opclasses=[PREFIX],
                condition=models.Q(status="active"), name="volunteer_active_cover",
            ),
        ]
        permissions = [
            ("approve_volunteer", _("Can approve or decline volunteer applications")),
            ("import_volunteers", _("Can import volunteer rosters")),
            ("record_hours", _("Can sign volunteers up and check them in and out")),
            ("correct_hours", _("Can correct service hours")),
            ("assign_task", _("Can hand case tasks to volunteers")),
            ("assign_building", _("Can assign party members to buildings")),
        ]

    def __str__(self) -> str:
        return anonymised_label(self.pk) if self.is_anonymised else self.name

    def get_absolute_url(self) -> str:
        return reverse("volunteers:volunteer", kwargs={"pk": self.pk})

    @property
    def is_anonymised(self) -> bool:
        """Past retention (``volunteers.retention``): name, phone and notes are gone for good."""
        return self.anonymised_at is not None

    @property
    def masked_phone(self) -> str:
        return "" if self.is_anonymised else mask_phone(self.phone)

    @property
    def is_in_service_party_member(self) -> bool:
        return self.party_member and bool(self.employer_party_org)


@follows_unit_path
class VolunteerTally(models.Model):
    """Active volunteers, and party members among them, whose home is one community or grid.

    Kept exact by ``volunteers.tallies`` in the transaction of every change to a volunteer's
    status, home or party membership, so a top tier's dashboard sums one row per unit instead
    of counting every volunteer.
    """

    unit = models.OneToOneField(Unit, on_delete=models.CASCADE, related_name="+")
    unit_path = models.CharField(max_length=255)
    active = models.PositiveIntegerField(default=0)
    party_members = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("volunteer tally")
        verbose_name_plural = _("volunteer tallies")
        indexes = [models.Index(fields=["unit_path"], name="volunteer_tally_scope", opclasses=[PREFIX])]


class VolunteerEvent(models.Model):
    """One immutable line of a volunteer's history: applied, approved, paused, corrected hours …"""

    volunteer = models.ForeignKey(Volunteer, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("when"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=32)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("volunteer history entry")
        verbose_name_plural = _("volunteer history")
        ordering = ["at", "pk"]

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ValueError("History entries are immutable.")
        super().save(*args, **kwargs)


class Membership(models.Model):
    team = models.ForeignKey(Team, verbose_name=_("team"), on_delete=models.CASCADE, related_name="memberships")
    volunteer = models.ForeignKey(
        Volunteer, verbose_name=_("volunteer"), on_delete=models.CASCADE, related_name="memberships"
    )
    joined_on = models.DateField(_("joined"))

    class Meta:
        verbose_name = _("team membership")
        verbose_name_plural = _("team memberships")
        ordering = ["team", "volunteer__name"]
        constraints = [models.UniqueConstraint(fields=["team", "volunteer"], name="membership_unique")]


def reach_path(unit_path: str, level: str) -> str:
    """Whose volunteers an activity or a case's task draws on: a grid's draws on its community."""
    if level != Unit.Level.GRID:
        return unit_path
    return unit_path[: unit_path.rstrip(PATH_SEPARATOR).rfind(PATH_SEPARATOR) + 1]


@follows_unit_path
class Activity(UnitPathMixin):
    """A service event: a patrol, a haircut day, a repair day … with a place, a time and seats."""

    class Kind(models.TextChoices):
        PATROL = "patrol", _("Patrol")
        LIAISON = "liaison", _("Community liaison")
        HAIRCUT = "haircut", _("Free haircuts")
        REPAIR_DAY = "repair_day", _("Repair day")
        PUBLICITY = "publicity", _("Publicity")
        ELDERLY_CARE = "elderly_care", _("Elderly care visits")
        CLEAN_UP = "clean_up", _("Environment clean-up")
        CIVILITY = "civility", _("Civility guidance")
        OTHER = "other", _("Other")

    title = models.CharField(_("title"), max_length=120)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    unit = models.ForeignKey(Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="volunteer_activities")
    team = models.ForeignKey(
        Team, verbose_name=_("team"), null=True, blank=True, on_delete=models.SET_NULL, related_name="activities"
    )
    place = models.CharField(_("place"), max_length=200)
    starts_at = models.DateTimeField(_("starts"), db_index=True)
    ends_at = models.DateTimeField(_("ends"))
    capacity = models.PositiveIntegerField(_("seats"), validators=[MinValueValidator(1)])
    # Kept by the sign-up services under the activity's row lock; never edited by hand.
    seats_taken = models.PositiveIntegerField(_("seats taken"), default=0, editable=False)
    description = models.TextField(_("description"), blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        ordering = ["starts_at", "pk"]
        indexes = [
            models.Index(
                fields=["unit_path", "starts_at"], name="activity_scope_starts", opclasses=[PREFIX, "timestamptz_ops"]
            )
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(ends_at__gt=models.F("starts_at")), name="activity_ends_after_start"),
            models.CheckConstraint(
                condition=models.Q(seats_taken__lte=models.F("capacity")), name="activity_not_overbooked"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("volunteers:activity", kwargs={"pk": self.pk})

    @property
    def seats_left(self) -> int:
        return max(self.capacity - self.seats_taken, 0)

    @property
    def is_full(self) -> bool:
        return self.seats_taken >= self.capacity

    @property
    def duration_minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)


class SignUp(models.Model):
    """A volunteer's place on an activity, and whether they came (check-in / check-out)."""

    class Status(models.TextChoices):
        SIGNED_UP = "signed_up", _("Signed up")
        CHECKED_IN = "checked_in", _("Checked in")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")
        NO_SHOW = "no_show", _("Did not come")

    HOLDS_SEAT = (Status.SIGNED_UP, Status.CHECKED_IN, Status.COMPLETED, Status.NO_SHOW)

    activity = models.ForeignKey(Activity, verbose_name=_("activity"), on_delete=models.PROTECT, related_name="signups")
    volunteer = models.ForeignKey(Volunteer, verbose_name=_("volunteer"), on_delete=models.PROTECT, related_name="signups")
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.SIGNED_UP)
    signed_up_at = models.DateTimeField(_("signed up"))
    signed_up_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    checked_in_at = models.DateTimeField(_("checked in"), null=True, blank=True)
    checked_out_at = models.DateTimeField(_("checked out"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)

    class Meta:
        verbose_name = _("sign-up")
        verbose_name_plural = _("sign-ups")
        ordering = ["signed_up_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["activity", "volunteer"], condition=~models.Q(status="cancelled"), name="one_live_signup"
            )
        ]


class HoursQuerySet(models.QuerySet):
    """The ledger is append-only: rows are never changed or deleted, only compensated."""

    def update(self, **kwargs):
        if set(kwargs) - {"unit_path"}:  # a move of the tree re-points the path copy; nothing else
            raise ValueError("Hours entries are append-only: add a correction instead.")
        return super().update(**kwargs)

    def delete(self):
        raise ValueError("Hours entries are append-only: add a correction instead.")

    def forget_descriptions(self) -> int:
        """The retention's one sanctioned edit (``volunteers.retention``): free text goes, the figures stay."""
        return super().update(description="")


@follows_unit_path
class HoursEntry(UnitPathMixin):
    """One line of the hours ledger: a credit for a service, or a correction of an earlier line.

    ``minutes`` and ``times`` (person-times, 人次) are signed: a correction carries the
    difference, and a correction that voids a credit carries ``times = -1``, so every
    total is a plain SUM over the ledger.
    """

    class Kind(models.TextChoices):
        ACTIVITY = "activity", _("Activity")
        TASK = "task", _("Task from a case")
        SERVICE = "service", _("Other service")
        CORRECTION = "correction", _("Correction")

    volunteer = models.ForeignKey(Volunteer, verbose_name=_("volunteer"), on_delete=models.PROTECT, related_name="hours")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    minutes = models.IntegerField(_("minutes"))
    times = models.SmallIntegerField(_("person-times"), default=1)
    served_on = models.DateField(_("served on"), db_index=True)
    unit = models.ForeignKey(Unit, verbose_name=_("served in"), on_delete=models.PROTECT, related_name="+")
    team = models.ForeignKey(Team, verbose_name=_("team"), null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    signup = models.ForeignKey(SignUp, null=True, blank=True, on_delete=models.PROTECT, related_name="hours")
    task = models.ForeignKey("Task", null=True, blank=True, on_delete=models.PROTECT, related_name="hours")
    corrects = models.ForeignKey(
        "self", verbose_name=_("corrects"), null=True, blank=True, on_delete=models.PROTECT, related_name="corrections"
    )
    description = models.CharField(_("what"), max_length=200)
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = HoursQuerySet.as_manager()

    class Meta:
        verbose_name = _("hours entry")
        verbose_name_plural = _("hours ledger")
        ordering = ["-served_on", "-pk"]
        indexes = [
            models.Index(fields=["unit_path", "served_on"], name="hours_scope_served", opclasses=[PREFIX, "date_ops"]),
            # A top tier's month of service (every unit) from the index alone.
            models.Index(fields=["served_on"], include=["unit_path", "minutes", "times"], name="hours_served_cover"),
            models.Index(fields=["volunteer", "served_on"], name="hours_volunteer_served"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["signup"], condition=models.Q(kind="activity"), name="one_credit_per_signup"),
            models.UniqueConstraint(fields=["task"], condition=models.Q(kind="task"), name="one_credit_per_task"),
            models.CheckConstraint(
                condition=models.Q(kind="correction") | models.Q(minutes__gt=0, times=1), name="credit_is_positive"
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="correction") | models.Q(corrects__isnull=False), name="correction_names_entry"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.volunteer} {self.served_on} {self.minutes}′"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ValueError("Hours entries are append-only: add a correction instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Hours entries are append-only: add a correction instead.")

    @property
    def hours(self) -> float:
        return self.minutes / 60


class Task(models.Model):
    """Part of a case handed to a volunteer; their report lands on the case timeline."""

    class Status(models.TextChoices):
        ASSIGNED = "assigned", _("Assigned")
        DONE = "done", _("Reported done")
        CANCELLED = "cancelled", _("Cancelled")

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.PROTECT, related_name="volunteer_tasks")
    volunteer = models.ForeignKey(Volunteer, verbose_name=_("volunteer"), on_delete=models.PROTECT, related_name="tasks")
    description = models.TextField(_("what to do"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ASSIGNED)
    assigned_at = models.DateTimeField(_("assigned"))
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    report = models.TextField(_("report"), blank=True)
    reported_at = models.DateTimeField(_("reported"), null=True, blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("volunteer task")
        verbose_name_plural = _("volunteer tasks")
        ordering = ["-assigned_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.case.code} → {self.volunteer}"

    def get_absolute_url(self) -> str:
        return reverse("volunteers:task", kwargs={"pk": self.pk})


class BuildingAssignment(models.Model):
    """党员包楼: a party member answers for a building (several may share one)."""

    building = models.ForeignKey(
        Building, verbose_name=_("building"), on_delete=models.CASCADE, related_name="party_assignments"
    )
    volunteer = models.ForeignKey(
        Volunteer, verbose_name=_("party member"), on_delete=models.PROTECT, related_name="building_assignments"
    )
    since = models.DateField(_("since"))
    ended_on = models.DateField(_("ended"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("building assignment (党员包楼)")
        verbose_name_plural = _("building assignments (党员包楼)")
        ordering = ["building", "since"]
        constraints = [
            models.UniqueConstraint(
                fields=["building", "volunteer"], condition=models.Q(ended_on__isnull=True),
                name="one_live_assignment",
            )
        ]

    def __str__(self) -> str:
        return f"{self.building} · {self.volunteer}"


@follows_unit_path
class Suggestion(UnitPathMixin):
    """建言献策: a volunteer's suggestion, answered by the community, perhaps turned into a case."""

    class Status(models.TextChoices):
        OPEN = "open", _("Waiting for an answer")
        ANSWERED = "answered", _("Answered")
        CASE = "case", _("Turned into a case")

    volunteer = models.ForeignKey(
        Volunteer, verbose_name=_("volunteer"), on_delete=models.PROTECT, related_name="suggestions"
    )
    unit = models.ForeignKey(Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+")
    building = models.ForeignKey(
        Building, verbose_name=_("building"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    title = models.CharField(_("summary"), max_length=120)
    text = models.TextField(_("suggestion"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    submitted_at = models.DateTimeField(_("submitted"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    answer = models.TextField(_("answer"), blank=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    case = models.OneToOneField(
        Case, verbose_name=_("case"), null=True, blank=True, on_delete=models.PROTECT, related_name="suggestion"
    )

    class Meta:
        verbose_name = _("suggestion")
        verbose_name_plural = _("suggestions")
        ordering = ["-submitted_at", "-pk"]
        indexes = [
            models.Index(fields=["unit_path", "status"], name="suggestion_scope_status", opclasses=[PREFIX, "text_ops"])
        ]
        permissions = [("answer_suggestion", _("Can answer suggestions and turn them into cases"))]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("volunteers:suggestion", kwargs={"pk": self.pk})
