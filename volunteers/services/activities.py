"""Activities and sign-ups: seats are counted under the activity's row lock.

Capacity holds under concurrent sign-ups on both databases: on PostgreSQL the activity row
is locked (``select_for_update``) so sign-ups to one activity queue; the seat itself is
taken by a conditional UPDATE (``seats_taken < capacity``), which SQLite (that ignores the
lock but runs one writer at a time) honours too, and a check constraint refuses overbooking.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.refusals import IllegalTransition
from communities.models import Unit, path_within

from ..models import Activity, HoursEntry, SignUp, Team, Volunteer
from .common import ensure_may, ensure_self_or_may, is_self, within_reach

SS = SignUp.Status
ACTIVITY_FIELDS = ("title", "kind", "unit", "team", "place", "starts_at", "ends_at", "capacity", "description")
MAX_SHIFT = timedelta(hours=16)
CLOCK_SLACK = timedelta(minutes=5)


def _clean_activity(fields: dict, *, instance: Activity | None = None) -> dict:
    errors: dict[str, object] = {}
    for name, message in (("title", _("Give the activity a title.")), ("place", _("Say where it takes place."))):
        fields[name] = (fields.get(name) or "").strip()
        if not fields[name]:
            errors[name] = message
    if fields.get("kind") not in Activity.Kind.values:
        errors["kind"] = _("Choose the kind of activity.")
    unit, team = fields.get("unit"), fields.get("team")
    if not isinstance(unit, Unit):
        errors["unit"] = _("Choose the unit that runs the activity.")
    elif isinstance(team, Team) and not path_within(unit.path, team.unit.path) and not path_within(team.unit.path, unit.path):
        errors["team"] = _("The team belongs to another part of the tree.")
    starts, ends = fields.get("starts_at"), fields.get("ends_at")
    if not starts or not ends:
        errors["starts_at"] = _("Give the start and end time.")
    elif ends <= starts:
        errors["ends_at"] = _("The end must come after the start.")
    capacity = fields.get("capacity")
    taken = instance.seats_taken if instance is not None else 0
    if not capacity or capacity < 1:
        errors["capacity"] = _("An activity needs at least one seat.")
    elif capacity < taken:
        errors["capacity"] = _("%(taken)d volunteers are already signed up: the seats cannot be fewer.") % {"taken": taken}
    if errors:
        raise ValidationError(errors)
    fields["description"] = (fields.get("description") or "").strip()
    return fields


@transaction.atomic
def create_activity(*, by, **fields) -> Activity:
    fields = _clean_activity({name: fields.get(name) for name in ACTIVITY_FIELDS})
    ensure_may(by, "volunteers.add_activity", fields["unit"].path)
    return Activity.objects.create(**fields, created_by=by)


def lock_activity(activity: Activity) -> Activity:
    return Activity.objects.select_for_update(of=("self",)).select_related("unit", "team").get(pk=activity.pk)


@transaction.atomic
def update_activity(*, activity: Activity, by, **fields) -> Activity:
    activity = lock_activity(activity)
    ensure_may(by, "volunteers.change_activity", activity.unit_path)
    if activity.cancelled_at:
        raise IllegalTransition(_("This activity was cancelled."))
    merged = _clean_activity({name: fields.get(name, getattr(activity, name)) for name in ACTIVITY_FIELDS}, instance=activity)
    ensure_may(by, "volunteers.change_activity", merged["unit"].path)
    for name, value in merged.items():
        setattr(activity, name, value)
    activity.save()
    return activity


@transaction.atomic
def cancel_activity(*, activity: Activity, by) -> Activity:
    """Call an activity off: nobody has come yet, so every sign-up is cancelled with it."""
    activity = lock_activity(activity)
    ensure_may(by, "volunteers.change_activity", activity.unit_path)
    if activity.cancelled_at:
        raise IllegalTransition(_("This activity was already cancelled."))
    if activity.signups.filter(status__in=[SS.CHECKED_IN, SS.COMPLETED]).exists():
        raise IllegalTransition(_("Volunteers have already checked in: the activity took place and cannot be cancelled."))
    now = timezone.now()
    activity.signups.filter(status=SS.SIGNED_UP).update(status=SS.CANCELLED, cancelled_at=now)
    Activity.objects.filter(pk=activity.pk).update(cancelled_at=now, seats_taken=0)
    activity.cancelled_at, activity.seats_taken = now, 0
    return activity


# --- sign-ups ---------------------------------------------------------------------------------


def eligible(volunteer: Volunteer, activity: Activity) -> bool:
    return volunteer.status == Volunteer.Status.ACTIVE and within_reach(volunteer, activity.unit)


@transaction.atomic
def sign_up(*, activity: Activity, volunteer: Volunteer, by) -> SignUp:
    """Take a seat for ``volunteer`` (staff for anyone in reach; a volunteer for themselves)."""
    activity = lock_activity(activity)
    by_self = is_self(by, volunteer)
    ensure_self_or_may(by, volunteer, "volunteers.record_hours", activity.unit_path)
    _ensure_open_for(activity, volunteer, by_self=by_self)
    if SignUp.objects.filter(activity=activity, volunteer=volunteer).exclude(status=SS.CANCELLED).exists():
        raise ValidationError({"volunteer": _("%(name)s is already signed up.") % {"name": volunteer.name}})
    taken = Activity.objects.filter(
        pk=activity.pk, cancelled_at__isnull=True, seats_taken__lt=F("capacity")
    ).update(seats_taken=F("seats_taken") + 1)
    if taken != 1:
        raise IllegalTransition(_("All %(capacity)d seats are taken.") % {"capacity": activity.capacity})
    try:
        with transaction.atomic():
            signup = SignUp.objects.create(
                activity=activity, volunteer=volunteer, signed_up_at=timezone.now(),
                signed_up_by=by if by is not None and by.is_authenticated else None,
            )
    except IntegrityError:  # the same volunteer signed up a moment ago (a double click)
        raise ValidationError({"volunteer": _("%(name)s is already signed up.") % {"name": volunteer.name}}) from None
    activity.seats_taken += 1
    return signup


def _ensure_open_for(activity: Activity, volunteer: Volunteer, *, by_self: bool) -> None:
    if activity.cancelled_at:
        raise IllegalTransition(_("This activity was cancelled."))
    # Staff may sign people up afterwards from a paper list; a volunteer only before it starts.
    if by_self and activity.starts_at <= timezone.now():
        raise IllegalTransition(_("This activity has already started: sign-up is closed."))
    if volunteer.status != Volunteer.Status.ACTIVE:
        raise ValidationError({"volunteer": _("Only an active volunteer can sign up.")})
    if not within_reach(volunteer, activity.unit):
        raise ValidationError({"volunteer": _("%(name)s does not live in the area of this activity.") % {"name": volunteer.name}})


def _lock_signup(signup: SignUp) -> tuple[SignUp, Activity]:
    activity = lock_activity(signup.activity)
    signup = SignUp.objects.select_for_update(of=("self",)).select_related("volunteer").get(pk=signup.pk)
    return signup, activity


def _move(signup: SignUp, *, expect: str, refusal, **changes) -> SignUp:
    """Compare-and-set on the sign-up's status: the loser of a race gets ``refusal``."""
    if SignUp.objects.filter(pk=signup.pk, status=expect).update(**changes) != 1:
        raise IllegalTransition(refusal)
    for name, value in changes.items():
        setattr(signup, name, value)
    return signup


@transaction.atomic
def cancel_sign_up(*, signup: SignUp, by) -> SignUp:
    signup, activity = _lock_signup(signup)
    ensure_self_or_may(by, signup.volunteer, "volunteers.record_hours", activity.unit_path)
    refusal = _("Only a sign-up that has not checked in can be cancelled (this one is %(status)s).") % {
        "status": signup.get_status_display()
    }
    _move(signup, expect=SS.SIGNED_UP, refusal=refusal, status=SS.CANCELLED, cancelled_at=timezone.now())
    Activity.objects.filter(pk=activity.pk, seats_taken__gt=0).update(seats_taken=F("seats_taken") - 1)
    return signup


def _moment(at: datetime | None, activity: Activity) -> datetime:
    at = at or timezone.now()
    if at > timezone.now() + CLOCK_SLACK:
        raise ValidationError({"at": _("This time lies in the future.")})
    if at < activity.starts_at - timedelta(hours=2):
        raise ValidationError({"at": _("This is long before the activity starts.")})
    return at


@transaction.atomic
def check_in(*, signup: SignUp, by, at: datetime | None = None) -> SignUp:
    signup, activity = _lock_signup(signup)
    ensure_may(by, "volunteers.record_hours", activity.unit_path)
    if activity.cancelled_at:
        raise IllegalTransition(_("This activity was cancelled."))
    at = _moment(at, activity)
    refusal = _("Only a signed-up volunteer can check in (this one is %(status)s).") % {"status": signup.get_status_display()}
    return _move(signup, expect=SS.SIGNED_UP, refusal=refusal, status=SS.CHECKED_IN, checked_in_at=at)


@transaction.atomic
def check_out(*, signup: SignUp, by, at: datetime | None = None) -> SignUp:
    """End the volunteer's service: the minutes between check-in and check-out are credited."""
    signup, activity = _lock_signup(signup)
    ensure_may(by, "volunteers.record_hours", activity.unit_path)
    at = _moment(at, activity)
    refusal = _("Only a checked-in volunteer can check out (this one is %(status)s).") % {"status": signup.get_status_display()}
    if signup.status != SS.CHECKED_IN:
        raise IllegalTransition(refusal)
    minutes = int((at - signup.checked_in_at).total_seconds() // 60)
    if minutes < 1:
        raise ValidationError({"at": _("The check-out must come after the check-in.")})
    if at - signup.checked_in_at > MAX_SHIFT:
        raise ValidationError({"at": _("More than 16 hours after the check-in: check the times.")})
    _move(signup, expect=SS.CHECKED_IN, refusal=refusal, status=SS.COMPLETED, checked_out_at=at)
    HoursEntry.objects.create(
        volunteer=signup.volunteer, kind=HoursEntry.Kind.ACTIVITY, minutes=minutes, times=1,
        served_on=timezone.localdate(signup.checked_in_at), unit=activity.unit, team=activity.team,
        signup=signup, description=activity.title[:200], created_by=by,
    )
    return signup


@transaction.atomic
def record_attendance(*, signup: SignUp, by, checked_in_at: datetime, checked_out_at: datetime) -> SignUp:
    """Both times at once, from the paper list of an activity that is over."""
    check_in(signup=signup, by=by, at=checked_in_at)
    return check_out(signup=SignUp.objects.get(pk=signup.pk), by=by, at=checked_out_at)


@transaction.atomic
def mark_no_show(*, signup: SignUp, by) -> SignUp:
    signup, activity = _lock_signup(signup)
    ensure_may(by, "volunteers.record_hours", activity.unit_path)
    if activity.starts_at > timezone.now():
        raise IllegalTransition(_("The activity has not started yet."))
    refusal = _("Only a signed-up volunteer can be marked absent (this one is %(status)s).") % {
        "status": signup.get_status_display()
    }
    return _move(signup, expect=SS.SIGNED_UP, refusal=refusal, status=SS.NO_SHOW)
