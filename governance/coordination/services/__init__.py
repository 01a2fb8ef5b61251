"""Every change to whistles, meetings, action items and polls: one function each, one transaction.

Rows that two staff can change at once are locked (``select_for_update``) and written with
a compare-and-set, so the loser gets a clear ``IllegalTransition`` on PostgreSQL and on
SQLite alike. Whatever touches a case appends to its timeline (``cases.services.record``).
Callers use this package's names only.
"""

from cases.refusals import IllegalTransition

from .meetings import (
    add_action_item,
    add_agenda_item,
    add_decision,
    cancel_meeting,
    create_meeting,
    invite,
    may_organise,
    may_update_action,
    publish_notice,
    record_minutes,
    update_action_item,
)
from .polls import close_poll, correct_ballot, may_close, may_collect, open_poll, record_ballot
from .whistles import (
    blow_whistle,
    may_assess,
    may_report,
    rate_justification,
    rate_response,
    report,
    speaks_for,
    update_commitment,
)

__all__ = [
    "IllegalTransition",
    "blow_whistle", "report", "update_commitment", "rate_response", "rate_justification",
    "create_meeting", "invite", "add_agenda_item", "record_minutes", "cancel_meeting", "add_decision",
    "add_action_item", "update_action_item", "publish_notice",
    "open_poll", "record_ballot", "correct_ballot", "close_poll",
    "may_report", "may_assess", "speaks_for", "may_organise", "may_update_action", "may_collect", "may_close",
]
