"""Who and where: the tier tree, buildings, departments, partners and staff posts."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models, transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

PATH_SEPARATOR = "/"


def path_within(path: str, root: str) -> bool:
    """Is the unit at ``path`` in the subtree rooted at ``root`` (``root`` itself included)?
    The inner path first, then the root (the order of ``Unit.is_within``). Paths end with the
    separator, so /1/2/ is not within /1/23/. Where the root is a user's posts, use
    ``communities.selectors.in_subtree``."""
    return path.startswith(root)


def path_prefixes(path: str) -> list[str]:
    """The paths of the units from the root down to the unit at ``path`` (itself included), root first."""
    parts = path.strip(PATH_SEPARATOR).split(PATH_SEPARATOR) if path.strip(PATH_SEPARATOR) else []
    return [PATH_SEPARATOR + PATH_SEPARATOR.join(parts[:end]) + PATH_SEPARATOR for end in range(1, len(parts) + 1)]

code_validator = RegexValidator(
    r"^[a-z0-9][a-z0-9-]*$", _("Use lower-case letters, digits and hyphens only.")
)


class Unit(models.Model):
    """A node of the tier tree: 工委 → 街道 → 社区 → 网格.

    ``path`` is a materialised path of primary keys ("/1/4/17/"), so "this unit and
    everything under it" is one indexed prefix filter, at any depth and any size.
    It is maintained here on create and on move, descendants included.
    """

    class Level(models.TextChoices):
        AREA = "area", _("Area work committee")
        STREET = "street", _("Street")
        COMMUNITY = "community", _("Community")
        GRID = "grid", _("Grid")

    LEVEL_ORDER = [Level.AREA, Level.STREET, Level.COMMUNITY, Level.GRID]

    name = models.CharField(_("name"), max_length=100)
    code = models.SlugField(
        _("code"),
        max_length=40,
        unique=True,
        validators=[code_validator],
        help_text=_("Short stable code used in QR posters and addresses, e.g. xc-3."),
    )
    level = models.CharField(_("level"), max_length=16, choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(_("path"), max_length=255, editable=False, db_index=True)
    depth = models.PositiveSmallIntegerField(_("depth"), editable=False, default=0)
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)
    address = models.CharField(_("office address"), max_length=200, blank=True)
    phone = models.CharField(_("office phone"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        ordering = ["path"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("communities:unit", kwargs={"code": self.code})

    @classmethod
    def child_level(cls, level: str) -> str | None:
        order = cls.LEVEL_ORDER
        index = order.index(level)
        return order[index + 1] if index + 1 < len(order) else None

    def clean(self) -> None:
        super().clean()
        if self.parent_id is None:
            if self.level != self.Level.AREA:
                raise ValidationError({"parent": _("Only an area work committee has no parent.")})
            return
        parent = self.parent
        expected = self.child_level(parent.level)
        if expected != self.level:
            message = (
                _("Nothing can be placed under a grid.")
                if expected is None
                else _("Under %(parent)s only a %(level)s can be placed.")
                % {"parent": parent.name, "level": self.Level(expected).label}
            )
            raise ValidationError({"parent": message})
        if self.pk and parent.path.startswith(self.path or "\0"):
            raise ValidationError({"parent": _("A unit cannot be moved under itself or its own descendants.")})

    def save(self, *args, **kwargs) -> None:
        with transaction.atomic():
            if self.pk is None:
                self.path = ""
                super().save(*args, **kwargs)
                self._set_path_from_parent()
                type(self).objects.filter(pk=self.pk).update(path=self.path, depth=self.depth)
                return
            old = type(self).objects.select_for_update().values("path", "parent_id").get(pk=self.pk)
            if old["parent_id"] != self.parent_id:
                self._set_path_from_parent()
                if self.path.startswith(old["path"]):
                    raise ValidationError(_("A unit cannot be moved under itself or its own descendants."))
                self._move_descendants(old_path=old["path"])
            super().save(*args, **kwargs)

    def _set_path_from_parent(self) -> None:
        if self.parent_id:
            parent = type(self).objects.only("path", "depth").get(pk=self.parent_id)
            self.path = f"{parent.path}{self.pk}{PATH_SEPARATOR}"
            self.depth = parent.depth + 1
        else:
            self.path = f"{PATH_SEPARATOR}{self.pk}{PATH_SEPARATOR}"
            self.depth = 0

    def _move_descendants(self, *, old_path: str) -> None:
        old_depth = old_path.count(PATH_SEPARATOR) - 2
        type(self).objects.filter(path__startswith=old_path).exclude(pk=self.pk).update(
            path=Concat(Value(self.path), Substr("path", len(old_path) + 1), output_field=models.CharField()),
            depth=F("depth") + (self.depth - old_depth),
        )
        # Objects that copy the path for fast scoping follow their unit.
        for model in _path_followers:
            model.objects.filter(unit_path__startswith=old_path).update(
                unit_path=Concat(
                    Value(self.path),
                    Substr("unit_path", len(old_path) + 1),
                    output_field=models.CharField(),
                )
            )
        for listener in _move_listeners:
            listener(old_path, self.path)

    def ancestors(self) -> models.QuerySet[Unit]:
        ids = [int(part) for part in self.path.strip(PATH_SEPARATOR).split(PATH_SEPARATOR)[:-1]]
        return type(self).objects.filter(pk__in=ids).order_by("depth")

    def descendants(self, *, include_self: bool = True) -> models.QuerySet[Unit]:
        queryset = type(self).objects.filter(path__startswith=self.path)
        return queryset if include_self else queryset.exclude(pk=self.pk)

    def is_within(self, other: Unit) -> bool:
        return path_within(self.path, other.path)


# Models (in later apps too) that store a copy of their unit's path as ``unit_path``
# register here so a move of the tree keeps them correct in one UPDATE each.
_path_followers: list[type[models.Model]] = []


def follows_unit_path(model: type[models.Model]) -> type[models.Model]:
    _path_followers.append(model)
    return model


# Callbacks (in later apps) for what a move needs beyond the copied paths: (old path, new path),
# in the move's transaction, after the followers.
_move_listeners: list[Callable[[str, str], None]] = []


def on_unit_move(listener: Callable[[str, str], None]) -> None:
    if listener not in _move_listeners:  # an app's ready() run twice must not recount twice
        _move_listeners.append(listener)


class Building(models.Model):
    """A residential building (楼), placed in a grid (or a community without grids)."""

    unit = models.ForeignKey(
        Unit, verbose_name=_("grid or community"), on_delete=models.PROTECT, related_name="buildings"
    )
    # Empty for buildings typed in by hand; an area workbook keys its buildings by it.
    code = models.CharField(
        _("code"), max_length=40, blank=True, default="", validators=[code_validator],
        help_text=_("Stable code from the area workbook, e.g. xc-3-b41."),
    )
    name = models.CharField(_("name"), max_length=100, help_text=_("e.g. Xingcheng Erli building 41"))
    address = models.CharField(_("address"), max_length=200, blank=True)
    floors = models.PositiveSmallIntegerField(_("floors"), default=6, validators=[MinValueValidator(1)])
    year_built = models.PositiveSmallIntegerField(_("year built"), null=True, blank=True)
    has_elevator = models.BooleanField(_("has an elevator"), default=False)
    property_manager = models.ForeignKey(
        "PartnerOrganisation",
        verbose_name=_("property management company"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_buildings",
    )
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("building")
        verbose_name_plural = _("buildings")
        ordering = ["unit__path", "name"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "name"], name="building_unique_name_in_unit"),
            models.UniqueConstraint(fields=["code"], condition=~models.Q(code=""), name="building_unique_code"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("communities:building", kwargs={"pk": self.pk})

    def clean(self) -> None:
        super().clean()
        if self.unit_id and self.unit.level not in (Unit.Level.COMMUNITY, Unit.Level.GRID):
            raise ValidationError({"unit": _("A building belongs to a community or a grid.")})


class Stairwell(models.Model):
    """A stairwell unit of a building (单元)."""

    building = models.ForeignKey(
        Building, verbose_name=_("building"), on_delete=models.CASCADE, related_name="stairwells"
    )
    number = models.PositiveSmallIntegerField(_("number"), validators=[MinValueValidator(1)])

    class Meta:
        verbose_name = _("stairwell unit")
        verbose_name_plural = _("stairwell units")
        ordering = ["building", "number"]
        constraints = [
            models.UniqueConstraint(fields=["building", "number"], name="stairwell_unique_number")
        ]

    def __str__(self) -> str:
        return _("%(building)s, unit %(number)s") % {"building": self.building.name, "number": self.number}


class Household(models.Model):
    """A dwelling (户). Floor area counts in consent votes (e.g. ≥ 2/3 by area)."""

    stairwell = models.ForeignKey(
        Stairwell, verbose_name=_("stairwell unit"), on_delete=models.CASCADE, related_name="households"
    )
    floor = models.SmallIntegerField(_("floor"))
    room = models.CharField(_("room"), max_length=20, help_text=_("Door number, e.g. 501"))
    area = models.DecimalField(
        _("floor area (m²)"), max_digits=7, decimal_places=2, validators=[MinValueValidator(0)]
    )
    occupied = models.BooleanField(_("occupied"), default=True)
    head_name = models.CharField(_("head of household"), max_length=50, blank=True)
    phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    residents = models.PositiveSmallIntegerField(_("residents"), null=True, blank=True)

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")
        ordering = ["stairwell", "floor", "room"]
        constraints = [models.UniqueConstraint(fields=["stairwell", "room"], name="household_unique_room")]

    def __str__(self) -> str:
        return f"{self.stairwell} {self.room}"


class Department(models.Model):
    """A government department that can be summoned (住建委, 人社局, 房管局 …)."""

    class Kind(models.TextChoices):
        HOUSING = "housing", _("Housing and construction commission")
        HUMAN_RESOURCES = "hr", _("Human resources and social security bureau")
        HOUSING_ADMIN = "housing_admin", _("Housing administration bureau")
        MARKET = "market", _("Market supervision bureau")
        EDUCATION = "education", _("Education commission")
        ECOLOGY = "ecology", _("Ecology and environment bureau")
        URBAN = "urban", _("Urban management and law enforcement")
        POLICE = "police", _("Police station")
        FIRE = "fire", _("Fire rescue")
        CIVIL = "civil", _("Civil affairs bureau")
        TRANSPORT = "transport", _("Transport commission")
        OTHER = "other", _("Other department")

    name = models.CharField(_("name"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    unit = models.ForeignKey(
        Unit,
        verbose_name=_("serves"),
        on_delete=models.PROTECT,
        related_name="departments",
        help_text=_("The tier this department serves, usually the area."),
    )
    contact_name = models.CharField(_("contact person"), max_length=50, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PartnerOrganisation(models.Model):
    """An organisation that works with a unit: property manager, owners' committee, utility …"""

    class Kind(models.TextChoices):
        PROPERTY_MANAGER = "property_manager", _("Property management company")
        OWNERS_COMMITTEE = "owners_committee", _("Owners' committee")
        PROPERTY_OWNER = "property_owner", _("Property-owning unit")
        HEATING = "heating", _("Heating company")
        GAS = "gas", _("Gas company")
        POWER = "power", _("Power supply company")
        WATER = "water", _("Water company")
        CO_BUILDER = "co_builder", _("Party-building partner unit")
        SOCIAL = "social", _("Social organisation")
        OTHER = "other", _("Other")

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    unit = models.ForeignKey(
        Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="partners"
    )
    contact_name = models.CharField(_("contact person"), max_length=50, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("partner organisation")
        verbose_name_plural = _("partner organisations")
        ordering = ["unit__path", "name"]
        constraints = [models.UniqueConstraint(fields=["unit", "name"], name="partner_unique_name_in_unit")]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    """A staff role. Each is a Django group of the same name (permissions by migration)."""

    SECRETARY = "secretary", _("Secretary")
    DIRECTOR = "director", _("Director")
    DEPUTY_DIRECTOR = "deputy_director", _("Deputy director")
    DISPATCHER = "dispatcher", _("Dispatcher")
    CASEWORKER = "caseworker", _("Caseworker")
    GRID_WORKER = "grid_worker", _("Grid worker")
    DEPARTMENT_LIAISON = "department_liaison", _("Department liaison")
    SUPERVISOR = "supervisor", _("Read-only supervisor")
    ADMINISTRATOR = "administrator", _("Administrator")


# Which roles exist at which tier. A grid has grid workers; departments report to the area.
ROLE_LEVELS: dict[str, set[str]] = {
    Role.SECRETARY: {Unit.Level.AREA, Unit.Level.STREET, Unit.Level.COMMUNITY},
    Role.DIRECTOR: {Unit.Level.AREA, Unit.Level.STREET, Unit.Level.COMMUNITY},
    Role.DEPUTY_DIRECTOR: {Unit.Level.AREA, Unit.Level.STREET, Unit.Level.COMMUNITY},
    Role.DISPATCHER: {Unit.Level.AREA, Unit.Level.STREET, Unit.Level.COMMUNITY},
    Role.CASEWORKER: {Unit.Level.STREET, Unit.Level.COMMUNITY, Unit.Level.GRID},
    Role.GRID_WORKER: {Unit.Level.GRID},
    Role.DEPARTMENT_LIAISON: {Unit.Level.AREA},
    Role.SUPERVISOR: {Unit.Level.AREA, Unit.Level.STREET, Unit.Level.COMMUNITY, Unit.Level.GRID},
    Role.ADMINISTRATOR: {Unit.Level.AREA, Unit.Level.STREET, Unit.Level.COMMUNITY},
}


# A department liaison's post sits on the area only to say whom they speak for: it opens
# no subtree. They see exactly what they are summoned to (guardian grants).
GRANTS_ONLY_ROLES = frozenset({Role.DEPARTMENT_LIAISON})


class Portfolio(models.TextChoices):
    """A deputy director's field; case categories name the portfolio that answers for them."""

    LIVELIHOOD = "livelihood", _("Livelihood")
    SAFETY = "safety", _("Public safety")
    URBAN = "urban", _("Urban management")
    PARTY = "party", _("Party building")
    GENERAL = "general", _("General affairs")


class PostQuerySet(models.QuerySet):
    def active(self) -> PostQuerySet:
        return self.filter(active=True)


class Post(models.Model):
    """A staff post (岗位): a user holds a role on a unit and acts in its subtree."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="posts"
    )
    unit = models.ForeignKey(Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="posts")
    role = models.CharField(_("role"), max_length=24, choices=Role.choices)
    portfolio = models.CharField(
        _("portfolio"),
        max_length=16,
        choices=Portfolio.choices,
        blank=True,
        help_text=_("For deputy directors: the field they answer for."),
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="liaisons",
        help_text=_("For department liaisons: the department they speak for."),
    )
    title = models.CharField(_("title"), max_length=100, blank=True)
    phone = models.CharField(_("work mobile"), max_length=20, blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = PostQuerySet.as_manager()

    class Meta:
        verbose_name = _("staff post")
        verbose_name_plural = _("staff posts")
        ordering = ["unit__path", "role"]
        constraints = [
            models.UniqueConstraint(fields=["user", "unit", "role"], name="post_unique_role_per_unit"),
            models.CheckConstraint(
                condition=~models.Q(role="deputy_director") | ~models.Q(portfolio=""),
                name="post_deputy_has_portfolio",
            ),
            models.CheckConstraint(
                condition=~models.Q(role="department_liaison") | models.Q(department__isnull=False),
                name="post_liaison_has_department",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.unit}"

    def clean(self) -> None:
        super().clean()
        errors = {}
        if self.unit_id and self.role and self.unit.level not in ROLE_LEVELS[self.role]:
            errors["role"] = _("This role does not exist at the level of %(unit)s.") % {"unit": self.unit}
        if self.role == Role.DEPUTY_DIRECTOR and not self.portfolio:
            errors["portfolio"] = _("A deputy director needs a portfolio.")
        if self.role != Role.DEPUTY_DIRECTOR and self.portfolio:
            errors["portfolio"] = _("Only deputy directors have a portfolio.")
        if self.role == Role.DEPARTMENT_LIAISON and not self.department_id:
            errors["department"] = _("A department liaison needs a department.")
        if self.role != Role.DEPARTMENT_LIAISON and self.department_id:
            errors["department"] = _("Only department liaisons speak for a department.")
        if errors:
            raise ValidationError(errors)


class AppendOnlyQuerySet(models.QuerySet):
    """Refuses bulk changes: rows of an append-only log are written once and kept."""

    def update(self, **kwargs):
        raise PermissionError("This log is append-only: rows cannot be updated.")

    def delete(self):
        raise PermissionError("This log is append-only: rows cannot be deleted.")

    bulk_update = update


class SecurityEvent(models.Model):
    """One line of the append-only security log (written by ``communities.security``).

    Every app logs here, so it lives in the first app of the chain. ``unit_path`` is where the
    person concerned works (the common ancestor of their posts), which scopes who may read the
    line; it is empty when nobody known is concerned (a login under an unknown name).
    On PostgreSQL a trigger refuses UPDATE and DELETE as well (migration 0003).
    """

    class Kind(models.TextChoices):
        LOGIN_FAILED = "login_failed", _("Login failed")
        LOCKED_OUT = "locked_out", _("Locked out after repeated failures")
        UNLOCKED = "unlocked", _("Unlocked by an administrator")
        AUTH_FAILED = "auth_failed", _("API credentials refused")
        DENIED = "denied", _("Access denied")
        NOT_FOUND = "not_found", _("Object outside the user's scope or missing")
        PII_REVEALED = "pii_revealed", _("Personal data revealed")
        TWO_FACTOR_FAILED = "2fa_failed", _("Wrong two-factor code")
        TWO_FACTOR_ENROLLED = "2fa_enrolled", _("Two-factor sign-in set up")
        TWO_FACTOR_RESET = "2fa_reset", _("Two-factor sign-in reset by an administrator")

    at = models.DateTimeField(_("time"), default=timezone.now, db_index=True, editable=False)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, editable=False)
    # No database constraint: the log outlives the accounts it names, and never changes.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), null=True, blank=True, editable=False,
        on_delete=models.DO_NOTHING, db_constraint=False, related_name="+",
    )
    username = models.CharField(_("user name"), max_length=150, blank=True, editable=False)
    ip = models.GenericIPAddressField(_("address"), null=True, blank=True, editable=False)
    method = models.CharField(_("method"), max_length=8, blank=True, editable=False)
    path = models.CharField(_("address requested"), max_length=500, blank=True, editable=False)
    unit_path = models.CharField(max_length=255, blank=True, db_index=True, editable=False)
    detail = models.JSONField(_("detail"), default=dict, blank=True, editable=False)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("security log entry")
        verbose_name_plural = _("security log")
        ordering = ["-at", "-pk"]
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.get_kind_display()} {self.username}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("The security log is append-only: entries cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("The security log is append-only: entries cannot be deleted.")


class AccountSecurity(models.Model):
    """What an account must still do at its next sign-in (written by ``communities.twofactor``)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="account_security",
    )
    must_change_password = models.BooleanField(
        _("must change password"), default=False,
        help_text=_("Set for accounts created or reset by an administrator or an import."),
    )
    password_changed_at = models.DateTimeField(_("password changed"), null=True, blank=True)

    class Meta:
        verbose_name = _("account security")
        verbose_name_plural = _("account security")

    def __str__(self) -> str:
        return str(self.user)
