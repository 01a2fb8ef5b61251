"""The tables the load writes, in the order it writes them, and one chunk's rows by table.

To add a table to the load: register it in ``TABLES`` after the tables it points at, add
its rows to the ``Chunk`` where they are generated, and it is streamed, counted, indexed
in bulk and removed with the area like the others.
"""

from __future__ import annotations

from collections import Counter

from django.db import models
from guardian.models import GroupObjectPermission

from cases.models import Case, ContactRecord, ReturnVisit, Supervision, TimelineEvent
from governance.models import (
    ActionItem,
    ActionUpdate,
    AgendaItem,
    Decision,
    Meeting,
    Participant,
    Summons,
    Whistle,
)
from volunteers.models import Activity, HoursEntry, Membership, SignUp, Volunteer, VolunteerEvent

from .sinks import Table, next_id

# Written in this order (each table after the ones it points at); the names label the counts.
TABLES: dict[str, Table] = {name: Table(model) for name, model in [
    ("volunteer", Volunteer), ("volunteer_event", VolunteerEvent), ("membership", Membership),
    ("case", Case), ("event", TimelineEvent), ("contact", ContactRecord), ("visit", ReturnVisit),
    ("supervision", Supervision),
    ("whistle", Whistle), ("summons", Summons), ("grant", GroupObjectPermission),
    ("meeting", Meeting), ("participant", Participant), ("agenda", AgendaItem), ("decision", Decision),
    ("action", ActionItem), ("action_update", ActionUpdate),
    ("activity", Activity), ("signup", SignUp), ("hours", HoursEntry),
]}
LABELS = {
    "case": "cases", "event": "timeline events", "contact": "contacts", "visit": "ratings",
    "supervision": "supervisions", "whistle": "whistles", "summons": "summonses", "grant": "object grants",
    "meeting": "meetings", "participant": "invited parties", "agenda": "agenda items", "decision": "decisions",
    "action": "action items", "action_update": "action updates", "volunteer": "volunteers",
    "volunteer_event": "volunteer history entries", "membership": "team memberships", "activity": "activities",
    "signup": "sign-ups", "hours": "hours entries",
}


class Ids:
    """The next primary key of each table: rows are numbered as they are generated, so they can point at each other."""

    def __init__(self) -> None:
        self.next = {name: next_id(table.model) for name, table in TABLES.items()}

    def take(self, name: str) -> int:
        value = self.next[name]
        self.next[name] = value + 1
        return value


class Chunk:
    """Rows generated together and written together (one savepoint), table by table."""

    def __init__(self, ids: Ids) -> None:
        self.ids = ids
        self.rows: dict[str, list[dict]] = {name: [] for name in TABLES}

    def add(self, name: str, row: dict) -> int:
        """Queue a row; it gets its id now unless it has one (cases are numbered by the generator)."""
        if "id" not in row:
            row["id"] = self.ids.take(name)
        self.rows[name].append(row)
        return row["id"]

    def write(self, target, loaded: Counter) -> None:
        for name, rows in self.rows.items():
            if rows:
                table = TABLES[name]
                loaded[name] += target.write(table, (table.row(row) for row in rows))


def models_loaded() -> list[type[models.Model]]:
    return [table.model for table in TABLES.values()]
