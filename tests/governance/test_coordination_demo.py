"""The coordination demo: whistles, meetings and the building 41 poll, loaded once."""

from __future__ import annotations

import pytest

from cases import demo as case_demo
from communities import demo
from governance import coordination_demo
from governance.coordination import selectors
from governance.models import ActionItem, Ballot, Meeting, Poll, Summons, Whistle

pytestmark = pytest.mark.django_db


def test_demo_loads_once_through_the_services():
    demo.load()
    case_demo.load()

    assert coordination_demo.load() > 0
    counts = [Whistle.objects.count(), Meeting.objects.count(), Poll.objects.count(), Ballot.objects.count()]
    assert coordination_demo.load() == 0
    assert counts == [Whistle.objects.count(), Meeting.objects.count(), Poll.objects.count(), Ballot.objects.count()]

    poll = Poll.objects.get()
    assert poll.electors.count() == 72
    outcome = selectors.poll_outcome(poll)
    assert outcome.tally.participants == 55 and outcome.tally.object == 0
    assert Summons.objects.filter(reported_at__isnull=False).count() == 1
    assert ActionItem.objects.filter(selectors.overdue_action_q()).exists()
    assert Meeting.objects.filter(notice_published_at__isnull=False).count() == 1
