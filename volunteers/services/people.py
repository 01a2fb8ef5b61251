"""Volunteers joining, being approved, changing status; teams and their members."""

from __future__ import annotations

from datetime import date

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.refusals import IllegalTransition
from communities.models import Building, Post, Unit, path_within
from communities.phones import log_refused_reveal, log_reveal, validate_mobile

from .. import tallies
from ..models import Membership, Skill, Team, Volunteer, reach_path
from .common import ensure_may, ensure_not_anonymised, history, lock_volunteer, within_reach

S = Volunteer.Status
PERSON_FIELDS = (
    "name", "phone", "unit", "building", "party_member", "party_since", "employer_party_org",
    "reported_on", "availability", "note",
)
PHONE_TAKEN = _("This mobile number is already on a volunteer roster. If you registered before, your community will contact you.")

# Which status a volunteer may move to from which, and the history line it writes.
STATUS_MOVES: dict[str, set[str]] = {
    S.ACTIVE: {S.PAUSED, S.LEFT},
    S.PAUSED: {S.ACTIVE, S.LEFT},
    S.LEFT: {S.ACTIVE},
}


def _clean_person(fields: dict, *, instance: Volunteer | None = None) -> dict:
    """Validate and normalise a volunteer's details; raises ValidationError by field."""
    errors: dict[str, object] = {}
    fields = dict(fields)
    fields["name"] = (fields.get("name") or "").strip()
    if not fields["name"]:
        errors["name"] = _("Enter the name.")
    try:
        fields["phone"] = validate_mobile(fields.get("phone") or "")
    except ValidationError as error:
        errors["phone"] = error.messages
    else:
        taken = Volunteer.objects.filter(phone=fields["phone"])
        if instance is not None:
            taken = taken.exclude(pk=instance.pk)
        if taken.exists():
            errors["phone"] = PHONE_TAKEN
    errors.update(_place_errors(fields.get("unit"), fields.get("building")))
    errors.update(party_errors(fields))
    if errors:
        raise ValidationError(errors)
    for name in ("employer_party_org", "availability", "note"):
        fields[name] = (fields.get(name) or "").strip()
    fields["party_member"] = bool(fields.get("party_member"))
    return fields


def _place_errors(unit: Unit | None, building: Building | None) -> dict:
    if not isinstance(unit, Unit) or unit.level not in (Unit.Level.COMMUNITY, Unit.Level.GRID):
        return {"unit": _("Choose the community or grid where the volunteer lives.")}
    if building is not None and not path_within(building.unit.path, reach_path(unit.path, unit.level)):
        return {"building": _("The building is not in this community.")}
    return {}


def party_errors(fields: dict) -> dict:
    """Party membership details that do not fit together, by field."""
    errors = {}
    party = bool(fields.get("party_member"))
    if not party and (fields.get("party_since") or (fields.get("employer_party_org") or "").strip()):
        errors["party_member"] = _("Only a party member has a party date or reports from an employer's party organisation.")
    since = fields.get("party_since")
    if since and since > timezone.localdate():
        errors["party_since"] = _("This date lies in the future.")
    reported = fields.get("reported_on")
    if reported and not (fields.get("employer_party_org") or "").strip():
        errors["employer_party_org"] = _("Name the party organisation the member reports from.")
    return errors


def _save_new(volunteer: Volunteer, skills) -> Volunteer:
    try:
        with transaction.atomic():
            volunteer.save()
    except IntegrityError:
        if Volunteer.objects.filter(phone=volunteer.phone).exists():  # registered a moment ago
            raise ValidationError({"phone": PHONE_TAKEN}) from None
        raise
    volunteer.skills.set(list(skills or []))
    tallies.recount(volunteer.unit_id)
    return volunteer


@transaction.atomic
def register(*, skills=(), **fields) -> Volunteer:
    """Self-registration from the public form; the community approves or declines it."""
    fields = _clean_person({name: fields.get(name) for name in PERSON_FIELDS})
    volunteer = Volunteer(**fields, status=S.APPLIED, source=Volunteer.Source.SELF, applied_at=timezone.now())
    _save_new(volunteer, skills)
    history(volunteer, action="applied")
    return volunteer


@transaction.atomic
def add_volunteer(*, by, skills=(), teams=(), source: str = Volunteer.Source.STAFF, **fields) -> Volunteer:
    """Staff add someone directly (or from a roster import): active at once."""
    fields = _clean_person({name: fields.get(name) for name in PERSON_FIELDS})
    ensure_may(by, "volunteers.add_volunteer", fields["unit"].path)
    now = timezone.now()
    volunteer = Volunteer(**fields, status=S.ACTIVE, source=source, decided_at=now, decided_by=by)
    _save_new(volunteer, skills)
    history(volunteer, action="added" if source == Volunteer.Source.STAFF else "imported", by=by)
    for team in teams:
        ensure_may(by, "volunteers.add_volunteer", team.unit.path)
        _join(team, volunteer, by=by)
    return volunteer


@transaction.atomic
def update_volunteer(*, volunteer: Volunteer, by, skills=None, **fields) -> Volunteer:
    """Change a volunteer's details (not their status: see ``approve``, ``set_status``)."""
    volunteer = lock_volunteer(volunteer)
    ensure_may(by, "volunteers.change_volunteer", volunteer.unit_path)
    ensure_not_anonymised(volunteer)
    merged = {name: fields.get(name, getattr(volunteer, name)) for name in PERSON_FIELDS}
    merged = _clean_person(merged, instance=volunteer)
    ensure_may(by, "volunteers.change_volunteer", merged["unit"].path)
    home_before = volunteer.unit_id
    for name, value in merged.items():
        setattr(volunteer, name, value)
    volunteer.save()
    tallies.recount(home_before, volunteer.unit_id)
    if skills is not None:
        volunteer.skills.set(list(skills))
    history(volunteer, action="updated", by=by)
    return volunteer


def _decide(volunteer: Volunteer, *, by, to: str, action: str, note: str = "") -> Volunteer:
    volunteer = lock_volunteer(volunteer)
    ensure_may(by, "volunteers.approve_volunteer", volunteer.unit_path)
    ensure_not_anonymised(volunteer)
    now = timezone.now()
    updated = Volunteer.objects.filter(pk=volunteer.pk, status=S.APPLIED).update(
        status=to, decided_at=now, decided_by=by, updated_at=now
    )
    if updated != 1:
        raise IllegalTransition(
            _("This application was already decided (the volunteer is %(status)s).")
            % {"status": volunteer.get_status_display()}
        )
    volunteer.status, volunteer.decided_at, volunteer.decided_by = to, now, by
    tallies.recount(volunteer.unit_id)
    history(volunteer, action=action, by=by, note=note)
    return volunteer


@transaction.atomic
def approve(*, volunteer: Volunteer, by) -> Volunteer:
    return _decide(volunteer, by=by, to=S.ACTIVE, action="approved")


@transaction.atomic
def decline(*, volunteer: Volunteer, by, reason: str) -> Volunteer:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the application is declined.")})
    return _decide(volunteer, by=by, to=S.DECLINED, action="declined", note=reason)


@transaction.atomic
def set_status(*, volunteer: Volunteer, to: str, by, note: str = "") -> Volunteer:
    """Pause, resume, leave or come back (applications are decided by ``approve``/``decline``)."""
    volunteer = lock_volunteer(volunteer)
    ensure_may(by, "volunteers.change_volunteer", volunteer.unit_path)
    ensure_not_anonymised(volunteer)
    if to not in STATUS_MOVES.get(volunteer.status, set()):
        raise IllegalTransition(
            _("A volunteer who is %(status)s cannot become %(to)s.")
            % {"status": volunteer.get_status_display(), "to": S(to).label if to in S.values else to}
        )
    old = volunteer.status
    updated = Volunteer.objects.filter(pk=volunteer.pk, status=old).update(status=to, updated_at=timezone.now())
    if updated != 1:
        raise IllegalTransition(_("Someone else changed this volunteer just now; reload and try again."))
    volunteer.status = to
    tallies.recount(volunteer.unit_id)
    history(volunteer, action=f"status_{to}", by=by, note=(note or "").strip())
    return volunteer


@transaction.atomic
def link_login(*, volunteer: Volunteer, username: str, by) -> Volunteer:
    """Let a volunteer sign in to their own page with an existing account (not a staff account)."""
    volunteer = lock_volunteer(volunteer)
    ensure_may(by, "volunteers.change_volunteer", volunteer.unit_path)
    ensure_not_anonymised(volunteer)
    username = (username or "").strip()
    if not username:
        Volunteer.objects.filter(pk=volunteer.pk).update(user=None)
        volunteer.user = None
        history(volunteer, action="login_unlinked", by=by)
        return volunteer
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise ValidationError({"username": _("No account with this username.")})
    if user.is_staff or user.is_superuser or Post.objects.filter(user=user).exists():
        raise ValidationError({"username": _("This is a staff account; a volunteer needs an account of their own.")})
    if Volunteer.objects.filter(user=user).exclude(pk=volunteer.pk).exists():
        raise ValidationError({"username": _("This account already belongs to another volunteer.")})
    Volunteer.objects.filter(pk=volunteer.pk).update(user=user)
    volunteer.user = user
    history(volunteer, action="login_linked", by=by, note=username)
    return volunteer


def reveal_phone(*, volunteer: Volunteer, by) -> str:
    """The full number, for staff who look after the volunteer; every opening, and every refused
    try, is in the security log (who, when, which volunteer, from which address)."""
    subject = {"volunteer": volunteer.pk, "field": "phone"}
    try:
        phone = _reveal_phone(volunteer=volunteer, by=by)
    except IllegalTransition as refusal:
        log_refused_reveal(by=by, subject=subject, why=refusal.message)
        raise
    log_reveal(by=by, subject=subject)
    return phone


@transaction.atomic
def _reveal_phone(*, volunteer: Volunteer, by) -> str:
    ensure_may(by, "volunteers.change_volunteer", volunteer.unit_path)
    volunteer = Volunteer.objects.get(pk=volunteer.pk)  # the number as stored now, not as a page loaded it
    ensure_not_anonymised(volunteer)
    history(volunteer, action="phone_revealed", by=by)
    return volunteer.phone


# --- teams ------------------------------------------------------------------------------------


TEAM_FIELDS = ("name", "kind", "unit", "leader", "description", "active")


def _clean_team(fields: dict, *, instance: Team | None = None) -> dict:
    errors = {}
    fields["name"] = (fields.get("name") or "").strip()
    if not fields["name"]:
        errors["name"] = _("Name the team.")
    if fields.get("kind") not in Team.Kind.values:
        errors["kind"] = _("Choose the kind of team.")
    unit = fields.get("unit")
    if not isinstance(unit, Unit):
        errors["unit"] = _("Choose the unit the team belongs to.")
    elif fields["name"]:
        clash = Team.objects.filter(unit=unit, name=fields["name"])
        if instance is not None:
            clash = clash.exclude(pk=instance.pk)
        if clash.exists():
            errors["name"] = _("This unit already has a team of this name.")
    if errors:
        raise ValidationError(errors)
    fields["description"] = (fields.get("description") or "").strip()
    return fields


@transaction.atomic
def create_team(*, by, leader: Volunteer | None = None, **fields) -> Team:
    fields = _clean_team({name: fields.get(name) for name in TEAM_FIELDS if name != "leader"})
    ensure_may(by, "volunteers.add_team", fields["unit"].path)
    fields.setdefault("active", True)
    if fields["active"] is None:
        fields["active"] = True
    team = Team.objects.create(**fields)
    if leader is not None:
        set_leader(team=team, volunteer=leader, by=by)
    return team


@transaction.atomic
def update_team(*, team: Team, by, **fields) -> Team:
    team = Team.objects.select_for_update().select_related("unit").get(pk=team.pk)
    ensure_may(by, "volunteers.change_team", team.unit.path)
    merged = {name: fields.get(name, getattr(team, name)) for name in TEAM_FIELDS if name != "leader"}
    merged = _clean_team(merged, instance=team)
    ensure_may(by, "volunteers.change_team", merged["unit"].path)
    for name, value in merged.items():
        setattr(team, name, value)
    team.save()
    if "leader" in fields and fields["leader"] is not None and fields["leader"].pk != team.leader_id:
        set_leader(team=team, volunteer=fields["leader"], by=by)
    return team


def _join(team: Team, volunteer: Volunteer, *, by, joined_on: date | None = None) -> Membership:
    ensure_not_anonymised(volunteer)
    if not within_reach(volunteer, team.unit):
        raise ValidationError({"volunteer": _("%(name)s does not live in the team's area.") % {"name": volunteer.name}})
    if volunteer.status not in (S.ACTIVE, S.PAUSED):
        raise ValidationError({"volunteer": _("Only an active volunteer can join a team.")})
    membership, created = Membership.objects.get_or_create(
        team=team, volunteer=volunteer, defaults={"joined_on": joined_on or timezone.localdate()}
    )
    if created:
        history(volunteer, action="joined_team", by=by, note=team.name)
    return membership


@transaction.atomic
def add_member(*, team: Team, volunteer: Volunteer, by, joined_on: date | None = None) -> Membership:
    team = Team.objects.select_for_update().select_related("unit").get(pk=team.pk)
    ensure_may(by, "volunteers.change_team", team.unit.path)
    if Membership.objects.filter(team=team, volunteer=volunteer).exists():
        raise ValidationError({"volunteer": _("%(name)s is already in this team.") % {"name": volunteer.name}})
    return _join(team, volunteer, by=by, joined_on=joined_on)


@transaction.atomic
def remove_member(*, team: Team, volunteer: Volunteer, by) -> None:
    team = Team.objects.select_for_update().select_related("unit").get(pk=team.pk)
    ensure_may(by, "volunteers.change_team", team.unit.path)
    deleted, _rows = Membership.objects.filter(team=team, volunteer=volunteer).delete()
    if not deleted:
        raise IllegalTransition(_("%(name)s is not in this team.") % {"name": volunteer.name})
    if team.leader_id == volunteer.pk:
        Team.objects.filter(pk=team.pk).update(leader=None)
    history(volunteer, action="left_team", by=by, note=team.name)


@transaction.atomic
def set_leader(*, team: Team, volunteer: Volunteer, by) -> Team:
    team = Team.objects.select_for_update().select_related("unit").get(pk=team.pk)
    ensure_may(by, "volunteers.change_team", team.unit.path)
    ensure_not_anonymised(volunteer)
    if not Membership.objects.filter(team=team, volunteer=volunteer).exists():
        _join(team, volunteer, by=by)
    Team.objects.filter(pk=team.pk).update(leader=volunteer)
    team.leader = volunteer
    history(volunteer, action="leads_team", by=by, note=team.name)
    return team


def skills_by_code(codes) -> list[Skill]:
    return list(Skill.objects.filter(code__in=list(codes)))


__all__ = [
    "register", "add_volunteer", "update_volunteer", "approve", "decline", "set_status", "link_login",
    "reveal_phone", "create_team", "update_team", "add_member", "remove_member", "set_leader",
]
