"""What staff read on a case's timeline for each recorded action: one registry of labels.

Later apps write on the case's timeline too (the volunteer corps, whistles, meetings, themes,
projects, home visits), but ``cases`` may not import them. Each app registers the labels of
the actions it writes in its ``AppConfig.ready`` (``register``), and ``services.record``
refuses an action nobody registered, so no timeline line can show a raw code.
Residents read their own wording (``cases.views_public.ACTION_LABELS``).
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

_labels: dict[str, str] = {}


def register(labels: dict[str, str]) -> None:
    """Register the labels of the actions an app writes; the same action twice must mean the same."""
    for action, label in labels.items():
        if _labels.get(action, label) != label:
            raise ImproperlyConfigured(f"Timeline action {action!r} is registered twice with different labels.")
        _labels[action] = label


def is_registered(action: str) -> bool:
    return action in _labels


def label(action: str) -> str:
    return _labels.get(action, action)


def registered() -> dict[str, str]:
    return dict(_labels)


# The actions cases itself writes.
register({
    "submitted": _("Request received"),
    "imported": _("Imported from the 12345 order"),
    "entered": _("Entered in the portal"),
    "dispatched": _("Dispatched"),
    "reassigned": _("Reassigned"),
    "co_handler_added": _("Co-handling unit added"),
    "co_handling_done": _("Co-handling part done"),
    "accepted": _("Accepted"),
    "returned": _("Returned to dispatch"),
    "contacted": _("Caller contacted"),
    "contact_added": _("Further contact with the caller"),
    "progress": _("Progress"),
    "extension_requested": _("Extension requested"),
    "extension_approved": _("Extension approved"),
    "extension_refused": _("Extension refused"),
    "resolved": _("Resolved"),
    "closed": _("Closed"),
    "supervised": _("Put under supervision"),
    "supervision_lifted": _("Supervision lifted"),
    "rated": _("Return visit"),
    "reopened": _("Reopened after the return visit"),
    "information_added": _("The resident added information"),
    "merged": _("Merged into another case"),
    "duplicate_merged": _("A duplicate was merged into this case"),
    "duplicates_merged": _("Duplicates were merged into this case"),
    "excluded_from_rates": _("Excluded from the rates"),
    "phone_revealed": _("Full phone number opened"),
    "escalated": _("Overdue, escalated"),
})
