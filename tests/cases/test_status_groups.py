"""The case status groups are defined once, on the model (``Case.OPEN`` …): check they split the
statuses the way the code reads them."""

from __future__ import annotations

from cases.models import Case
from cases.selectors import PROGRESS

ALL = set(Case.Status.values)


def test_open_and_finished_split_the_statuses():
    """``overdue_q`` reads "not finished" as OPEN (a form an index can use): a new state must be one or the other."""
    assert set(Case.OPEN) | set(Case.FINISHED) == ALL
    assert not set(Case.OPEN) & set(Case.FINISHED)


def test_not_closed_and_final_split_the_statuses():
    assert set(Case.NOT_CLOSED) | set(Case.FINAL) == ALL
    assert not set(Case.NOT_CLOSED) & set(Case.FINAL)
    assert set(Case.NOT_CLOSED) == set(Case.OPEN) | {Case.Status.RESOLVED}


def test_the_smaller_groups_lie_inside_the_larger():
    assert set(Case.HANDLING) < set(Case.OPEN)
    assert set(Case.TO_DISPATCH) < set(Case.OPEN)
    assert not set(Case.HANDLING) & set(Case.TO_DISPATCH)
    assert set(Case.ANSWERED) == set(Case.FINISHED) - {Case.Status.MERGED}
    assert set(Case.FINAL) < set(Case.FINISHED)


def test_a_groups_statuses_are_named_once():
    for group in (Case.OPEN, Case.HANDLING, Case.TO_DISPATCH, Case.FINISHED, Case.ANSWERED, Case.NOT_CLOSED, Case.FINAL):
        assert len(group) == len(set(group))


def test_the_lead_ranking_orders_the_not_closed_statuses():
    assert sorted(PROGRESS) == sorted(Case.NOT_CLOSED)
    assert len(PROGRESS) == len(Case.NOT_CLOSED)


def test_the_partial_indexes_cover_the_groups():
    """The indexes' conditions are frozen in the migrations as literal lists: they must keep matching."""
    conditions = {index.name: index.condition for index in Case._meta.indexes if index.condition is not None}
    status_lists = {name: dict(condition.children).get("status__in") for name, condition in conditions.items()}
    assert set(status_lists["case_unfinished"]) == set(Case.NOT_CLOSED)
    assert set(status_lists["case_open_by_due"]) == set(Case.OPEN)
