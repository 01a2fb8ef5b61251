"""What Open311 clients see of categories and cases: the spec's field names, public data only."""

from __future__ import annotations

import re
from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.models import Case, Category
from cases.selectors import FINISHED

S = Case.Status
SPEC_URL = "http://wiki.open311.org/GeoReport_v2"
DESCRIPTION_LIMIT = 4000  # the spec's limit on description texts

# Runs of 7+ digits (phone and ID numbers, spaces or dashes between the digits allowed) and
# e-mail addresses: personal data a resident may have typed into the text.
DIGIT_RUN = re.compile(r"\d(?:[\s\-]?\d){6,}[\dXx]?")
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
MASK = "****"

STATUS_NOTES = {
    S.SUBMITTED: _("Received; waiting to be dispatched to the unit that handles it."),
    S.DISPATCHED: _("Dispatched to %(unit)s."),
    S.ACCEPTED: _("Accepted by %(unit)s."),
    S.CONTACTED: _("%(unit)s has contacted the person who reported it."),
    S.IN_PROGRESS: _("Being handled by %(unit)s."),
    S.RETURNED: _("Being dispatched again."),
    S.RESOLVED: _("Resolved: %(result)s"),
    S.CLOSED: _("Closed: %(result)s"),
    S.MERGED: _("Handled together with request %(lead)s about the same problem."),
}


def w3c(moment: datetime | None) -> str | None:
    """The spec's date-time format (ISO 8601 with the offset), in the portal's time zone."""
    if moment is None:
        return None
    return timezone.localtime(moment).isoformat(timespec="seconds")


def public_text(text: str, *, names: tuple[str, ...] = ()) -> str:
    """``text`` without phone or ID numbers, e-mail addresses or the given names."""
    text = EMAIL.sub(MASK, DIGIT_RUN.sub(MASK, text or ""))
    for name in names:
        if len(name.strip()) >= 2:
            text = text.replace(name.strip(), MASK)
    return text[:DESCRIPTION_LIMIT]


def services(categories: QuerySet[Category]) -> list[Category]:
    """The categories a request can be filed under: active ones without active children."""
    rows = list(categories.filter(active=True).select_related("parent").order_by("sort_order", "code"))
    parents = {row.parent_id for row in rows if row.parent_id}
    return [row for row in rows if row.pk not in parents and (row.parent is None or row.parent.active)]


def is_service(category: Category) -> bool:
    parent_active = category.parent is None or category.parent.active
    return category.active and parent_active and not category.children.filter(active=True).exists()


def service(category: Category) -> dict:
    return {
        "service_code": category.code,
        "service_name": category.public_name,
        "description": category.name,
        "metadata": False,  # the one attribute (kind) is optional
        "type": "realtime",
        "keywords": ", ".join(dict.fromkeys([category.name, category.public_name])),
        "group": category.parent.public_name if category.parent_id else category.public_name,
    }


def definition(category: Category) -> dict:
    return {
        "service_code": category.code,
        "attributes": [
            {
                "variable": True,
                "code": "kind",
                "datatype": "singlevaluelist",
                "required": False,
                "datatype_description": str(_("Leave empty for a request for help.")),
                "order": 1,
                "description": str(_("What kind of request is it?")),
                "values": [{"key": key, "name": str(label)} for key, label in Case.Kind.choices],
            }
        ],
    }


def open_or_closed(case: Case) -> str:
    return "closed" if case.status in FINISHED else "open"


def status_notes(case: Case) -> str:
    names = (case.resident_name,)
    values = {
        "unit": case.unit.name,
        "result": public_text(case.result, names=names) if case.result else "",
        "lead": case.merged_into_id or "",
    }
    return str(STATUS_NOTES[case.status] % values).strip()


def address(case: Case) -> str:
    """The building and the place, most specific first; never the free-text address (a door number)."""
    parts = [case.building.name] if case.building_id else []
    return ", ".join([*parts, case.location_unit.name])


def request(case: Case) -> dict:
    finished = case.closed_at or case.resolved_at if case.status in FINISHED else None
    return {
        "service_request_id": case.pk,
        "status": open_or_closed(case),
        "status_notes": status_notes(case),
        "service_name": case.category.public_name,
        "service_code": case.category.code,
        "description": public_text(case.description, names=(case.resident_name,)),
        "agency_responsible": case.unit.name,
        "service_notice": None,
        "requested_datetime": w3c(case.received_at),
        "updated_datetime": w3c(finished or case.updated_at),
        "expected_datetime": w3c(case.resolve_due_at),
        "address": address(case),
        "address_id": case.location_unit.code,
        "zipcode": None,
        "lat": None,
        "long": None,
        "media_url": None,
    }


def public_requests() -> QuerySet[Case]:
    """Every case Open311 may show: reports of wrongdoing (举报) stay confidential."""
    return (
        Case.objects.exclude(kind=Case.Kind.REPORT)
        .select_related("category", "unit", "location_unit", "building")
        .order_by("-received_at", "-pk")
    )
