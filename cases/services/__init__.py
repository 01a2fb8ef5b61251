"""Every change to a case: one function per transition, one transaction each.

Each transition is checked in one place (``rules.TRANSITIONS`` and ``rules.ensure``): the
states it may start from, the permission the actor needs and where the actor must sit in
the tree. The row is locked (``select_for_update``) and the write is a compare-and-set on
the old status, so two workers racing get one success and one clear ``IllegalTransition``
on PostgreSQL and on SQLite alike. Each change appends an immutable ``TimelineEvent``.

Callers use this package's names only: ``from cases import services; services.accept(...)``.
"""

from .common import record
from .handling import (
    REVEAL_NEEDS_REASON, accept, add_progress, check_resolved_on, finish_co_handling, record_contact, resolve,
    reveal_phone,
)
from .intake import intake, route_suggestion, street_of
from .oversight import decide_extension, lift_supervision, request_extension, supervise
from .residents import add_information, rate, resident_may_rate
from .routing import add_co_handler, close, dispatch, exclude_from_rates, merge, merge_duplicates, reassign, return_case
from .rules import TRANSITIONS, IllegalTransition, Rule, allowed_actions, ensure, may_take_in

__all__ = [
    "IllegalTransition", "Rule", "TRANSITIONS", "ensure", "allowed_actions", "may_take_in", "record",
    "intake", "route_suggestion", "street_of",
    "dispatch", "reassign", "add_co_handler", "return_case", "close", "merge", "merge_duplicates", "exclude_from_rates",
    "accept", "record_contact", "add_progress", "resolve", "check_resolved_on", "reveal_phone", "REVEAL_NEEDS_REASON",
    "finish_co_handling",
    "request_extension", "decide_extension", "supervise", "lift_supervision",
    "rate", "add_information", "resident_may_rate",
]
