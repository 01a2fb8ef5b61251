"""Every change to the volunteer corps: one function per action, one transaction each.

Rows that two staff could change at once are locked (``select_for_update``) and written
with a compare-and-set on their old state, so the loser gets a clear ``IllegalTransition``
on PostgreSQL and SQLite alike. Bad input raises ``ValidationError`` by field. Actions on a
case (tasks, suggestions turned into cases) write the case's timeline through
``cases.services.record`` in the same transaction.

Callers use this package's names: ``from volunteers import services; services.sign_up(...)``.
"""

from cases.refusals import IllegalTransition

from .activities import (
    cancel_activity, cancel_sign_up, check_in, check_out, create_activity, eligible, mark_no_show,
    record_attendance, sign_up, update_activity,
)
from .buildings import assign_building, end_assignment
from .common import ANONYMISED, within_reach
from .hours import correct, credit_service, net_of
from .people import (
    add_member, add_volunteer, approve, create_team, decline, link_login, register, remove_member,
    reveal_phone, set_leader, set_status, update_team, update_volunteer,
)
from .suggestions import answer_suggestion, submit_suggestion, suggestion_to_case
from .tasks import assign_task, cancel_task, report_task

__all__ = [
    "IllegalTransition", "ANONYMISED", "within_reach",
    "register", "add_volunteer", "update_volunteer", "approve", "decline", "set_status", "link_login",
    "reveal_phone", "create_team", "update_team", "add_member", "remove_member", "set_leader",
    "create_activity", "update_activity", "cancel_activity", "eligible",
    "sign_up", "cancel_sign_up", "check_in", "check_out", "record_attendance", "mark_no_show",
    "credit_service", "correct", "net_of",
    "assign_task", "report_task", "cancel_task",
    "assign_building", "end_assignment",
    "submit_suggestion", "answer_suggestion", "suggestion_to_case",
]
