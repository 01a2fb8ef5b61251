"""Who sees which case, the work queues, duplicates and the resident's look-up (cases.selectors)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.utils import timezone

from cases import selectors, services
from cases.models import Case
from cases.selectors import (
    QUEUES,
    case_for_resident,
    likely_duplicates,
    queue,
    timeline,
    visible_cases,
)
from communities.models import Role
from communities.selectors import subtree_paths
from communities.services import grant_object, move_unit
from tests.cases.factories import CaseFactory, CategoryFactory, CoHandlingFactory, new_case
from tests.factories import BuildingFactory, GridFactory, UserFactory, staff

pytestmark = pytest.mark.django_db
S = Case.Status


@pytest.fixture
def here(community):
    return CaseFactory(location_unit=community)


@pytest.fixture
def there(sibling_community):
    return CaseFactory(location_unit=sibling_community)


# --- scoping ----------------------------------------------------------------------------


def test_sibling_community_case_is_invisible(community, here, there):
    user = staff(community, Role.CASEWORKER)
    assert list(visible_cases(user)) == [here]


def test_the_street_sees_every_community_below_it(street, here, there):
    assert set(visible_cases(staff(street, Role.DIRECTOR))) == {here, there}


def test_a_grid_worker_does_not_see_the_community_level_case(grid, here):
    assert not visible_cases(staff(grid, Role.GRID_WORKER)).exists()


def test_a_co_handling_unit_sees_the_case(sibling_community, here, there):
    CoHandlingFactory(case=here, unit=sibling_community)
    user = staff(sibling_community, Role.CASEWORKER)
    assert set(visible_cases(user)) == {here, there}


def test_co_handling_does_not_open_the_case_to_units_below_the_co_handler(street, sibling_community, here):
    CoHandlingFactory(case=here, unit=sibling_community)
    grid_below = GridFactory(parent=sibling_community)
    assert not visible_cases(staff(grid_below, Role.GRID_WORKER)).exists()  # as for the handling unit


def test_a_guardian_grant_shows_exactly_one_case(area, community, here, there):
    CaseFactory.create_batch(3, location_unit=community)
    liaison = staff(area, Role.DEPARTMENT_LIAISON)
    assert not visible_cases(liaison).exists()  # the liaison's post does not open the area
    grant_object(obj=there, to=liaison, perm="view_case")
    assert list(visible_cases(staff_reload(liaison))) == [there]


def test_a_grant_to_a_group_counts_too(community, here, there):
    from django.contrib.auth.models import Group

    group = Group.objects.create(name="住建委")
    user = staff(community, Role.CASEWORKER)
    user.groups.add(group)
    grant_object(obj=there, to=group, perm="view_case")
    assert set(visible_cases(staff_reload(user))) == {here, there}


def staff_reload(user):
    return type(user).objects.get(pk=user.pk)


def test_superuser_sees_everything_and_anonymous_nothing(here, there):
    assert visible_cases(UserFactory(is_superuser=True)).count() == 2
    assert not visible_cases(AnonymousUser()).exists()


def test_an_inactive_user_sees_nothing(community, here):
    user = staff(community, Role.CASEWORKER)
    user.is_active = False
    assert not visible_cases(user).exists()


def test_a_case_follows_its_unit_when_the_tree_moves(street, sibling_street, community, here):
    user = staff(sibling_street, Role.DIRECTOR)
    assert not visible_cases(user).exists()
    move_unit(unit=community, new_parent=sibling_street)
    assert list(visible_cases(staff_reload(user))) == [here]


def test_visible_cases_is_one_query_once_the_keys_granted_are_read(community, here, there, django_assert_num_queries):
    user = staff(community, Role.CASEWORKER)
    subtree_paths(user)  # posts read once per request, cached on the user
    with django_assert_num_queries(3):  # the keys granted and co-handled, read once per request, then the cases
        list(visible_cases(user))
    with django_assert_num_queries(1):
        list(visible_cases(user))


# --- phone ------------------------------------------------------------------------------


def test_only_the_current_handler_may_see_the_full_phone(grid):
    handler, colleague = staff(grid, Role.GRID_WORKER), staff(grid, Role.GRID_WORKER)
    case = CaseFactory(location_unit=grid, status=S.ACCEPTED, handler=handler)
    assert selectors.can_see_full_phone(handler, case)
    assert not selectors.can_see_full_phone(colleague, case)
    assert not selectors.can_see_full_phone(AnonymousUser(), case)
    assert selectors.can_see_full_phone(UserFactory(is_superuser=True), case)


# --- queues -----------------------------------------------------------------------------


def test_the_queues_are_the_contract_s():
    assert [name for name, _label in QUEUES] == [
        "mine", "unit", "waiting_acceptance", "contact_due_soon", "overdue", "supervised",
        "awaiting_return_visit", "to_dispatch", "all",
    ]
    with pytest.raises(ValueError):
        queue(UserFactory(), "nonsense")


@pytest.fixture
def board(street, community, grid, sibling_community):
    """One case per queue, seen from the community's caseworker."""
    now = timezone.now()
    me = staff(grid, Role.GRID_WORKER)
    at = lambda **kw: CaseFactory(location_unit=grid, **kw)  # noqa: E731
    cases = {
        "mine": at(status=S.CONTACTED, handler=me, contacted_at=now),
        "waiting": at(status=S.DISPATCHED),
        "contact_soon": at(status=S.ACCEPTED, contact_due_at=now + timedelta(hours=1)),
        "overdue": at(status=S.IN_PROGRESS, resolve_due_at=now - timedelta(hours=1), contacted_at=now),
        "supervised": at(status=S.CONTACTED, is_supervised=True, contacted_at=now),
        "resolved": at(status=S.RESOLVED, resolve_due_at=now - timedelta(days=1)),
        "returned": CaseFactory(location_unit=community, status=S.RETURNED),
        "closed": at(status=S.CLOSED, resolve_due_at=now - timedelta(days=1)),
        "elsewhere": CaseFactory(location_unit=sibling_community, status=S.DISPATCHED),
    }
    return me, cases


@pytest.mark.parametrize(("name", "expected"), [
    ("mine", {"mine"}),
    ("unit", {"mine", "waiting", "contact_soon", "overdue", "supervised", "returned"}),
    ("waiting_acceptance", {"waiting"}),
    ("contact_due_soon", {"contact_soon"}),
    ("overdue", {"overdue"}),
    ("supervised", {"supervised"}),
    ("awaiting_return_visit", {"resolved"}),
    ("to_dispatch", {"returned"}),
])
def test_each_queue_holds_its_cases(board, community, name, expected):
    me, cases = board
    viewer = me if name == "mine" else staff(community, Role.CASEWORKER)
    got = {key for key, case in cases.items() if case in set(queue(viewer, name))}
    assert got == expected


def _render(cases):
    """What a queue row (and an export line) shows of other tables."""
    return [(c.code, c.category.name, c.unit.name, c.location_unit.name, c.building and c.building.name) for c in cases]


@pytest.mark.parametrize("name", [name for name, _label in QUEUES])
def test_queue_query_count_does_not_grow_with_rows(name, grid, community, django_assert_max_num_queries):
    me = staff(grid, Role.GRID_WORKER)
    viewer = me if name == "mine" else staff(community, Role.DISPATCHER)
    building = BuildingFactory(unit=grid)
    now = timezone.now()
    status = {"waiting_acceptance": S.DISPATCHED, "awaiting_return_visit": S.RESOLVED, "to_dispatch": S.SUBMITTED,
              "contact_due_soon": S.ACCEPTED}.get(name, S.CONTACTED)
    make = lambda n: CaseFactory.create_batch(  # noqa: E731
        n, location_unit=grid, building=building, status=status, handler=me, is_supervised=True,
        category=CategoryFactory(), contact_due_at=now, resolve_due_at=now - timedelta(hours=1),
    )
    counts = []
    for n in (5, 45):
        make(n)
        fresh = staff_reload(viewer)
        cache.clear()  # who is asking read anew each time (communities.identity would share it)
        with django_assert_max_num_queries(5) as captured:  # keys granted and co-handled, cases, related rows
            rows = _render(queue(fresh, name))
        counts.append(len(captured))
        assert len(rows) == (5 if n == 5 else 50)
    assert counts[0] == counts[1]


# --- timeline ---------------------------------------------------------------------------


def test_the_resident_s_timeline_hides_internal_events_and_notes(street, grid, building):
    dispatcher, worker = staff(street, Role.DISPATCHER), staff(grid, Role.GRID_WORKER)
    case = new_case(place=grid, building=building)
    services.dispatch(case=case, to_unit=grid, by=dispatcher, note="内部：该户多次投诉")
    services.accept(case=case, by=worker)
    services.record_contact(case=case, by=worker, method="phone", summary="居民情绪激动")
    services.add_progress(case=case, by=worker, note="内部备注")
    services.add_progress(case=case, by=worker, note="已联系电工", public=True)
    services.reveal_phone(case=case, by=worker)

    public = timeline(case, public_only=True)
    assert [e.action for e in public] == ["submitted", "dispatched", "accepted", "contacted", "progress"]
    assert [e.note for e in public] == ["", "", "", "", "已联系电工"]
    staff_view = timeline(case)
    assert "phone_revealed" in [e.action for e in staff_view]
    assert staff_view[1].note == "内部：该户多次投诉"
    case.events.get(action="dispatched").refresh_from_db()
    assert case.events.get(action="dispatched").note == "内部：该户多次投诉"  # never written back


# --- duplicates -------------------------------------------------------------------------


def test_likely_duplicates_same_building_and_category_within_30_days(grid, building):
    category = CategoryFactory()
    case = CaseFactory(location_unit=grid, building=building, category=category)
    twin = CaseFactory(location_unit=grid, building=building, category=category,
                       received_at=timezone.now() - timedelta(days=10))
    CaseFactory(location_unit=grid, building=building, category=category, received_at=timezone.now() - timedelta(days=40))
    CaseFactory(location_unit=grid, building=building, category=CategoryFactory())
    CaseFactory(location_unit=grid, building=BuildingFactory(unit=grid), category=category)
    CaseFactory(location_unit=grid, building=building, category=category, status=S.MERGED, merged_into=twin)
    assert list(likely_duplicates(case)) == [twin]


def test_likely_duplicates_by_address_from_form_fields(grid):
    category = CategoryFactory()
    earlier = CaseFactory(location_unit=grid, category=category, address="岗南路 5 号院")
    found = likely_duplicates({"category": category, "address": " 岗南路 5 号院 "})
    assert list(found) == [earlier]
    assert not likely_duplicates({"category": category, "address": ""}).exists()


def test_likely_duplicates_respect_the_viewer_s_scope(community, sibling_community):
    category, building = CategoryFactory(), BuildingFactory(unit=GridFactory(parent=sibling_community))
    CaseFactory(location_unit=sibling_community, building=building, category=category)
    fields = {"category": category.pk, "building": building.pk}
    assert likely_duplicates(fields).count() == 1
    assert likely_duplicates(fields, user=staff(community, Role.CASEWORKER)).count() == 0


# --- the resident's look-up -------------------------------------------------------------


def test_case_for_resident_needs_the_code_and_the_last_four_digits(community):
    case = CaseFactory(location_unit=community, resident_phone="13812349876")
    assert case_for_resident(case.code, "9876") == case
    assert case_for_resident(case.code.lower() + " ", "9876") == case
    assert case_for_resident(case.code, "9875") is None
    assert case_for_resident(case.code, "") is None
    assert case_for_resident("NOSUCHCODE", "9876") is None


def test_case_for_resident_without_a_phone_is_never_found(community):
    case = CaseFactory(location_unit=community, resident_phone="")
    assert case_for_resident(case.code, "") is None
    assert case_for_resident(case.code, "\0\0\0\0") is None


# --- overdue ----------------------------------------------------------------------------


def test_overdue_is_computed_at_read_time(community):
    past = timezone.now() - timedelta(minutes=1)
    late = CaseFactory(location_unit=community, status=S.IN_PROGRESS, resolve_due_at=past)
    CaseFactory(location_unit=community, status=S.RESOLVED, resolve_due_at=past)
    CaseFactory(location_unit=community, status=S.IN_PROGRESS)
    assert list(selectors.overdue(Case.objects.all())) == [late]
    assert selectors.is_overdue(late) and not selectors.is_overdue(CaseFactory(location_unit=community))


def test_contact_overdue_counts_not_yet_and_late(community):
    now = timezone.now()
    not_yet = CaseFactory(location_unit=community, status=S.ACCEPTED, contact_due_at=now - timedelta(hours=1))
    late = CaseFactory(location_unit=community, status=S.CONTACTED, contact_due_at=now - timedelta(hours=2),
                       contacted_at=now - timedelta(hours=1))
    CaseFactory(location_unit=community, status=S.CONTACTED, contact_due_at=now, contacted_at=now - timedelta(hours=1))
    assert set(selectors.contact_overdue(Case.objects.all())) == {not_yet, late}
