"""Intake: a new request from any channel, waiting at its street's dispatch desk."""

from __future__ import annotations

from contextlib import nullcontext
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, transaction
from django.db.models.signals import post_save, pre_save
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from communities.models import Building, Unit, path_within

from .. import deadlines, rows, tallies
from ..models import Case, Category, TimelineEvent, Urgency
from .common import attach_photos, record
from .rules import S


def street_of(unit: Unit, known: Unit | None = None) -> Unit:
    """The street containing ``unit`` (or the unit itself if it is the area or a street).

    ``known``: a street the caller already holds (the form's choice), used if it does contain ``unit``.
    """
    if unit.level in (Unit.Level.AREA, Unit.Level.STREET):
        return unit
    if known is not None and known.level == Unit.Level.STREET and path_within(unit.path, known.path):
        return known
    return unit.ancestors().filter(level=Unit.Level.STREET).first() or unit


def _intake_place(location_unit: Unit, building: Building | None) -> Unit:
    if building is None:
        return location_unit
    if not path_within(building.unit.path, location_unit.path):
        raise ValidationError({"building": _("The building is not in the chosen place.")})
    return building.unit


def _validate_intake(
    source, category, title, description, kind, urgency, consent, resident_phone, location_unit,
) -> None:
    errors = {}
    if not isinstance(location_unit, Unit):
        errors["location_unit"] = _("Choose where it happened.")
    if source not in Case.Source.values:
        errors["source"] = _("Unknown channel.")
    if kind not in Case.Kind.values:
        errors["kind"] = _("Unknown request type.")
    if urgency is not None and urgency not in Urgency.values:
        errors["urgency"] = _("Unknown urgency.")
    if category is None or not isinstance(category, Category):
        errors["category"] = _("Choose a category.")
    if not (title or "").strip():
        errors["title"] = _("Give a short summary.")
    if not (description or "").strip():
        errors["description"] = _("Describe what happened.")
    if source == Case.Source.WEB and not consent:
        errors["consent"] = _("Your consent is needed to handle your request.")
    if resident_phone and not any(ch.isdigit() for ch in resident_phone):
        errors["resident_phone"] = _("Enter a phone number.")
    if errors:
        raise ValidationError(errors)


def intake(
    *, source: str, category: Category, title: str, description: str, location_unit: Unit,
    kind: str = Case.Kind.HELP, urgency: str | None = None, building: Building | None = None,
    street: Unit | None = None,
    address: str = "", resident_name: str = "", resident_phone: str = "", consent: bool = False,
    received_at: datetime | None = None, hotline_order_no: str | None = None,
    contact_due_at: datetime | None = None, resolve_due_at: datetime | None = None,
    by=None, actor_label: str = "", photos=(), code: str | None = None,
) -> Case:
    """A new request from any channel, waiting at its street's dispatch desk.

    A 12345 order number seen before returns the case already made from it. ``code``: its
    tracking code, if the caller chose it (the web form names it in its claim on the submission).
    """
    arguments = dict(locals())
    arguments["hotline_order_no"] = hotline_order_no = (hotline_order_no or "").strip() or None
    if hotline_order_no:
        return _intake_in_transaction(**arguments)
    _validate_intake(source, category, title, description, kind, urgency, consent, resident_phone, location_unit)
    now = timezone.now()
    if (received_at is None or received_at >= now) and connection.vendor == "postgresql":
        # A request as it arrives (the web form, a walk-in entered at once): no "entered" line.
        case = _new_case(**arguments, now=now)
        if tallies.counted_by_increment(case) and not _watched():
            event = TimelineEvent(
                case=case, at=now, actor=by, actor_label=actor_label, action="submitted",
                to_status=S.SUBMITTED, from_status="", public=True, data={"source": source},
            )
            try:
                with transaction.atomic() if photos else nullcontext():
                    _insert_in_one_statement(case, event)
                    attach_photos(case, photos, event, by=by, public=True)
                return case
            except rows.NotPlain:
                pass
    return _intake_in_transaction(**arguments)


@transaction.atomic
def _intake_in_transaction(
    *, source, category, title, description, location_unit, kind, urgency, building, street, address,
    resident_name, resident_phone, consent, received_at, hotline_order_no, contact_due_at, resolve_due_at,
    by, actor_label, photos, code,
) -> Case:
    """Any other intake (a 12345 order, a request received earlier, SQLite): the ORM's writes in one transaction."""
    if hotline_order_no:
        existing = Case.objects.filter(hotline_order_no=hotline_order_no).first()
        if existing is not None:
            return existing
    _validate_intake(source, category, title, description, kind, urgency, consent, resident_phone, location_unit)
    now = timezone.now()
    case = _new_case(
        source=source, category=category, title=title, description=description, location_unit=location_unit,
        kind=kind, urgency=urgency, building=building, street=street, address=address, resident_name=resident_name,
        resident_phone=resident_phone, consent=consent, received_at=received_at, hotline_order_no=hotline_order_no,
        contact_due_at=contact_due_at, resolve_due_at=resolve_due_at, now=now, code=code,
    )
    received_at = case.received_at
    if not hotline_order_no:
        case.save()
    else:
        saved = _save_imported(case)
        if saved is not case:
            return saved
    # The request was received when the caller made it (a 12345 order's 受理时间, a walk-in written
    # up later), which is what the resident's timeline says; entering it here is an event of its own.
    event = record(
        case, action="submitted", by=by, actor_label=actor_label, to_status=S.SUBMITTED, public=True,
        data={"source": source}, at=min(received_at, now),
    )
    if received_at < now:
        record(
            case, action="imported" if hotline_order_no else "entered", by=by, from_status=S.SUBMITTED,
            data={"received_at": received_at.isoformat()}, at=now,
        )
    attach_photos(case, photos, event, by=by, public=True)
    # Last: a tally row is shared by every request of the unit and day, and stays locked until the commit.
    tallies.count_new(case)
    return case


def _new_case(
    *, source, category, title, description, location_unit, kind, urgency, building, street, address,
    resident_name, resident_phone, consent, received_at, hotline_order_no, contact_due_at, resolve_due_at,
    now, code=None, **_ignored,
) -> Case:
    place = _intake_place(location_unit, building)
    street = street_of(place, known=street)
    urgency = urgency or category.default_urgency
    received_at = received_at or now
    if contact_due_at is None or resolve_due_at is None:
        contact_due, resolve_due = deadlines.due_dates(category, urgency, received_at)
    return Case(
        source=source, kind=kind, category=category, urgency=urgency, title=title.strip(),
        description=description.strip(), location_unit=place, building=building,
        address=address.strip(), unit=street, dispatching_unit=street,
        resident_name=resident_name.strip(), resident_phone=resident_phone.strip(),
        consent_at=timezone.now() if consent else None, received_at=received_at,
        hotline_order_no=hotline_order_no, contact_due_at=contact_due_at or contact_due,
        resolve_due_at=resolve_due_at or resolve_due, **({"code": code} if code else {}),
    )


def _watched() -> bool:
    """Something listens to saves of cases or timeline lines: they go through ``Model.save``."""
    return any(signal.has_listeners(model) for signal in (pre_save, post_save) for model in (Case, TimelineEvent))


_ROWS: list = []


def _insert_in_one_statement(case: Case, event: TimelineEvent) -> None:
    """The case, its "submitted" line and its tallies in one statement (PostgreSQL): one round trip.

    What ``case.save()``, ``record`` and ``tallies.count_new`` write, in the same order (case, line,
    day, category, hotspot and work tallies; see ``tallies.increments``). One statement is atomic on its own: no
    BEGIN and COMMIT round trips, and the tally rows stay locked only while it runs. The line's
    ``at`` is the case's ``received_at`` (both are now). Prepared on the server where it may be.
    """
    if not _ROWS:
        _ROWS[:] = [rows.RowInsert(Case), rows.RowInsert(TimelineEvent, leading=("case_id", "at"))]
    case_row, event_row = _ROWS
    case.unit_path = case._unit_path()
    event.at = case.received_at
    database = connections[DEFAULT_DB_ALIAS]  # not the proxy: the fields ask it for its operations, dozens of times
    case_columns, case_values = case_row.values(case, database)
    event_columns, event_values = event_row.values(event, database)
    upserts = tallies.increments(case, source="new_case, new_event")
    (day_sql, _), (category_sql, _), (hotspot_sql, _), (work_sql, _) = upserts
    sql = (
        f"WITH new_case AS (INSERT INTO {case_row.table} ({case_columns}) VALUES ({', '.join(['%s'] * len(case_values))}) "
        f"RETURNING {case_row.pk_column} AS case_id, received_at, unit_id, unit_path, category_id, location_unit_id, "
        f"building_id), "
        f"new_event AS (INSERT INTO {event_row.table} ({event_columns}) "
        f"SELECT case_id, received_at, {', '.join(['%s'] * len(event_values))} FROM new_case "
        f"RETURNING {event_row.pk_column} AS event_id), "
        f"{tallies.DAY_CTE} AS ({day_sql}), {tallies.CATEGORY_CTE} AS ({category_sql}), "
        f"{tallies.HOTSPOT_CTE} AS ({hotspot_sql}), work_tally AS ({work_sql}) "
        f"SELECT case_id, event_id FROM new_case, new_event"
    )
    case_pk, event_pk = rows.fetch_one_prepared(
        database, sql, [*case_values, *event_values, *(param for _, params in upserts for param in params)]
    )
    case_row.saved(case, case_pk)
    event_row.saved(event, event_pk)
    event.case = case


def _save_imported(case: Case) -> Case:
    """Save a case from a 12345 order; the case already made from that order if a concurrent import won."""
    hotline_order_no = case.hotline_order_no
    try:
        with transaction.atomic():
            case.save()
    except IntegrityError:
        existing = Case.objects.filter(hotline_order_no=hotline_order_no).first()
        if existing is not None:
            return existing
        raise
    return case


def route_suggestion(*, case: Case) -> Unit:
    """Where to dispatch: the most precise known place (building's grid → grid → community → street)."""
    if case.building_id:
        return case.building.unit
    return case.location_unit
