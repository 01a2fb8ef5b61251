"""The request lifecycle through cases.services: the journey, refusals, deadlines, reopen, merge."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from cases import services
from cases.models import (
    DEFAULT_DEADLINES,
    Case,
    Category,
    CoHandling,
    ExtensionRequest,
    Notification,
    PhoneReveal,
    ReturnVisit,
    Supervision,
    TimelineEvent,
    Urgency,
)
from cases.selectors import can_see_full_phone
from cases.services import TRANSITIONS, IllegalTransition
from communities.models import Role
from tests.cases.factories import CaseFactory, CategoryDeadlineFactory, CategoryFactory, new_case, walk
from tests.factories import CommunityFactory, GridFactory, UserFactory, staff

pytestmark = pytest.mark.django_db
S = Case.Status


@pytest.fixture(autouse=True)
def english():
    """Refusals are compared with their message ids (the UI default is Chinese)."""
    with translation.override("en"):
        yield




@pytest.fixture
def case(grid, building):
    return new_case(place=grid, building=building)


def _actions(case: Case) -> list[str]:
    return list(TimelineEvent.objects.filter(case=case).values_list("action", flat=True))


# --- the journey ----------------------------------------------------------------------


def test_full_journey_from_web_intake_to_closed_sets_every_rates_input(street, grid, building, dispatcher, worker):
    case = new_case(place=grid, building=building, source=Case.Source.WEB, consent=True)
    assert (case.status, case.unit, case.dispatching_unit) == (S.SUBMITTED, street, street)
    assert services.route_suggestion(case=case) == grid

    case = services.dispatch(case=case, to_unit=grid, by=dispatcher, note="请尽快处理")
    case = services.accept(case=case, by=worker)
    case = services.record_contact(case=case, by=worker, method="phone", summary="约好明天上门")
    case = services.add_progress(case=case, by=worker, note="电工已到场")
    case = services.resolve(case=case, by=worker, result="已更换灯泡", nature="reasonable")
    case = services.rate(case=case, resolved=True, satisfaction="satisfied", channel="web")

    case.refresh_from_db()
    assert case.status == S.CLOSED
    assert (case.unit, case.unit_path, case.dispatching_unit) == (grid, grid.path, street)
    assert case.handler == worker and case.nature == "reasonable" and case.result == "已更换灯泡"
    assert case.contacted_at <= case.contact_due_at
    assert (case.rated_resolved, case.satisfaction) == (True, "satisfied")
    assert all([case.dispatched_at, case.accepted_at, case.resolved_at, case.closed_at, case.rated_at, case.consent_at])
    assert _actions(case) == [
        "submitted", "dispatched", "accepted", "contacted", "progress", "resolved", "rated", "closed",
    ]


def test_every_event_records_actor_and_status_change(case, grid, dispatcher, worker):
    walk(case, to="accepted", dispatcher=dispatcher, handler=worker)
    dispatched, accepted = TimelineEvent.objects.filter(case=case).order_by("pk")[1:3]
    assert (dispatched.actor, dispatched.from_status, dispatched.to_status) == (dispatcher, S.SUBMITTED, S.DISPATCHED)
    assert (accepted.actor, accepted.from_status, accepted.to_status) == (worker, S.DISPATCHED, S.ACCEPTED)


def test_timeline_events_cannot_be_edited_or_deleted(case):
    event = case.events.get()
    event.note = "changed"
    with pytest.raises(ValueError):
        event.save()
    with pytest.raises(ValueError):
        event.delete()


def test_resident_visible_events_are_marked_public(case, grid, dispatcher, worker):
    walk(case, to="resolved", dispatcher=dispatcher, handler=worker)
    public = dict(TimelineEvent.objects.filter(case=case).values_list("action", "public"))
    assert public == {
        "submitted": True, "dispatched": True, "accepted": True, "contacted": True,
        "progress": False, "resolved": True,
    }


# --- intake -----------------------------------------------------------------------------


def test_intake_waits_at_the_street_containing_the_place(street, community, grid, building):
    for place in (community, grid):
        case = new_case(place=place)
        assert (case.unit, case.dispatching_unit, case.location_unit) == (street, street, place)


def test_intake_at_a_street_or_the_area_stays_there(area, street):
    assert new_case(place=street).unit == street
    assert new_case(place=area).unit == area


def test_intake_with_a_building_takes_the_building_s_grid_as_the_place(community, grid, building):
    case = new_case(place=community, building=building)
    assert case.location_unit == grid


def test_intake_refuses_a_building_outside_the_place(sibling_community, building):
    with pytest.raises(ValidationError) as error:
        new_case(place=sibling_community, building=building)
    assert "building" in error.value.message_dict
    assert not Case.objects.exists()


def test_web_intake_needs_consent(grid):
    with pytest.raises(ValidationError) as error:
        new_case(place=grid, source=Case.Source.WEB, consent=False)
    assert "consent" in error.value.message_dict


@pytest.mark.parametrize("field", ["title", "description"])
def test_intake_refuses_blank_text(grid, field):
    with pytest.raises(ValidationError) as error:
        new_case(place=grid, **{field: "  "})
    assert field in error.value.message_dict


def test_intake_hands_photos_to_the_upload_store(grid, monkeypatch):
    calls = []
    monkeypatch.setattr("cases.uploads.store_photos", lambda **kw: calls.append(kw))
    case = new_case(place=grid, photos=["photo-1"])
    assert calls == [{"case": case, "photos": ["photo-1"], "event": case.events.get(), "by": None, "public": True}]


def test_hotline_intake_is_idempotent_on_the_order_number(grid):
    first = new_case(place=grid, source=Case.Source.HOTLINE, hotline_order_no="2411230001")
    again = new_case(place=grid, source=Case.Source.HOTLINE, hotline_order_no=" 2411230001 ", title="重复")
    assert again.pk == first.pk
    assert Case.objects.count() == 1 and TimelineEvent.objects.count() == 1


def test_hotline_deadlines_win_over_the_category(grid):
    received = timezone.now() - timedelta(hours=1)
    contact, resolve = received + timedelta(hours=3), received + timedelta(days=2)
    case = new_case(
        place=grid, source=Case.Source.HOTLINE, hotline_order_no="A1", received_at=received,
        contact_due_at=contact, resolve_due_at=resolve,
    )
    assert (case.contact_due_at, case.resolve_due_at) == (contact, resolve)


# --- deadlines --------------------------------------------------------------------------


@pytest.mark.parametrize("urgency", Urgency.values)
def test_default_deadlines_by_urgency(grid, urgency):
    received = timezone.now()
    case = new_case(place=grid, urgency=urgency, received_at=received)
    contact, resolve = DEFAULT_DEADLINES[urgency]
    assert (case.contact_due_at, case.resolve_due_at) == (received + contact, received + resolve)


def test_category_default_urgency_applies(grid):
    case = new_case(place=grid, category=Category.objects.get(code="water"))
    assert case.urgency == Urgency.URGENT
    assert case.resolve_due_at - case.received_at == timedelta(hours=24)


def test_category_override_wins_and_sub_categories_inherit_it(grid):
    parent = CategoryFactory()
    child = CategoryFactory(parent=parent)
    CategoryDeadlineFactory(category=parent, urgency=Urgency.ORDINARY, resolve_within=timedelta(days=3))
    for category in (parent, child):
        case = new_case(place=grid, category=category)
        assert case.resolve_due_at - case.received_at == timedelta(days=3)
    CategoryDeadlineFactory(category=child, urgency=Urgency.ORDINARY, resolve_within=timedelta(days=1))
    assert new_case(place=grid, category=child).resolve_due_at - timezone.now() < timedelta(days=1)


def test_seeded_heating_and_gas_leak_deadlines(grid):
    heating = new_case(place=grid, category=Category.objects.get(code="heating"))
    gas = new_case(place=grid, category=Category.objects.get(code="gas-leak"))
    assert heating.contact_due_at - heating.received_at == timedelta(hours=1)
    assert gas.urgency == Urgency.EMERGENCY
    assert gas.contact_due_at - gas.received_at == timedelta(minutes=15)


def test_the_seeded_taxonomy_has_every_category_of_the_issue():
    names = set(Category.objects.filter(parent=None).values_list("name", flat=True))
    assert names == {
        "住房/物业", "供暖", "供水/供电/燃气", "市政道路", "加装电梯", "电动自行车充电", "噪音",
        "环境卫生/垃圾分类", "停车/交通", "教育培训退费", "劳动欠薪", "社保/低保", "群租房/公共安全",
        "房产证", "养老助餐", "其他",
    }
    assert Category.objects.get(code="heating").public_name == "暖气不热、停暖、漏水"


# --- refusals: the transition table ------------------------------------------------------


@pytest.fixture
def ctx(area, street, community, grid, building):
    root = UserFactory(is_superuser=True, first_name="管理员")
    return {"root": root, "grid": grid, "community": community}


def _call(action: str, case: Case, ctx: dict):
    root, grid = ctx["root"], ctx["grid"]
    later = timezone.now() + timedelta(days=30)
    calls = {
        "dispatch": lambda: services.dispatch(case=case, to_unit=grid, by=root),
        "reassign": lambda: services.reassign(case=case, to_unit=ctx["community"], by=root),
        "add_co_handler": lambda: services.add_co_handler(case=case, unit=CommunityFactory(parent=ctx["community"].parent), by=root),
        "accept": lambda: services.accept(case=case, by=root),
        "return": lambda: services.return_case(case=case, by=root, reason="不属于本单位"),
        "contact": lambda: services.record_contact(case=case, by=root, method="phone", summary="联系了"),
        "progress": lambda: services.add_progress(case=case, by=root, note="处理中"),
        "request_extension": lambda: services.request_extension(case=case, by=root, new_due_at=later, reason="需要时间"),
        "decide_extension": lambda: services.decide_extension(
            extension=ExtensionRequest.objects.create(case=case, requested_by=UserFactory(), reason="x", new_due_at=later),
            by=root, approve=True,
        ),
        "finish_co_handling": lambda: services.finish_co_handling(
            case=case, by=_co_handler(case, ctx["community"]), note="协办部分已完成"
        ),
        "resolve": lambda: services.resolve(case=case, by=root, result="已解决", nature="reasonable"),
        "close": lambda: services.close(case=case, by=root, note="结案"),
        "supervise": lambda: services.supervise(case=case, by=root, unit=grid.parent, comment="督办", due_at=later),
        "rate": lambda: services.rate(case=case, resolved=True, satisfaction="satisfied", channel="web"),
        "record_return_visit": lambda: services.rate(case=case, resolved=True, satisfaction="satisfied", channel="phone", by=root),
        "add_information": lambda: services.add_information(case=case, text="补充"),
        "merge": lambda: services.merge(case=case, into=CaseFactory(location_unit=grid), by=root),
        "merge_duplicates": lambda: services.merge_duplicates(
            into=case, cases=[CaseFactory(location_unit=grid)], by=root,
        ),
        "exclude_from_rates": lambda: services.exclude_from_rates(case=case, by=root, reason="无理诉求"),
    }
    return calls[action]()


def _co_handler(case: Case, community):
    """A grid worker of a unit that co-handles ``case``."""
    helper_grid = GridFactory(parent=community)
    CoHandling.objects.create(case=case, unit=helper_grid)
    return staff(helper_grid, Role.GRID_WORKER)


ILLEGAL = [
    (action, status)
    for action, rule in TRANSITIONS.items()
    for status in S.values
    if status not in rule.sources and action not in ("lift_supervision", "reveal_phone")
]


@pytest.mark.parametrize(("action", "status"), ILLEGAL)
def test_illegal_transition_is_refused_with_a_message_and_changes_nothing(ctx, action, status):
    other = CaseFactory(location_unit=ctx["grid"], status=S.RESOLVED)
    case = CaseFactory(location_unit=ctx["grid"], status=status, merged_into=other if status == S.MERGED else None)
    if action in ("rate", "record_return_visit", "add_information") and status == S.MERGED:
        pytest.skip("a merged case's rating and information go to its lead (tested below)")
    before = Case.objects.values().get(pk=case.pk)
    with pytest.raises(IllegalTransition) as error:
        _call(action, case, ctx)
    assert str(error.value.message)
    assert Case.objects.values().get(pk=case.pk) == before
    assert not TimelineEvent.objects.filter(case=case).exists()


LEGAL = [(action, status) for action, rule in TRANSITIONS.items() for status in sorted(rule.sources)]


@pytest.mark.parametrize(("action", "status"), [
    pair for pair in LEGAL
    if pair[0] not in ("lift_supervision", "reveal_phone", "rate", "record_return_visit", "add_information")
    and pair[1] != S.MERGED
])
def test_legal_transition_moves_to_its_target_and_writes_the_timeline(ctx, action, status):
    place = ctx["community"] if (action, status) == ("dispatch", S.DISPATCHED) else ctx["grid"]
    case = CaseFactory(location_unit=place, status=status)
    if action == "resolve" or (action == "close" and status == S.RETURNED):
        case.contacted_at = timezone.now()
        case.save()
    _call(action, case, ctx)
    case.refresh_from_db()
    moves = {("contact", S.ACCEPTED): S.CONTACTED, ("progress", S.CONTACTED): S.IN_PROGRESS}
    target = moves.get((action, status)) or TRANSITIONS[action].target or status
    assert case.status == target
    assert TimelineEvent.objects.filter(case=case).exists()


def test_accepting_an_accepted_case_names_who_accepted_it(case, grid, dispatcher, worker):
    walk(case, to="dispatched", dispatcher=dispatcher, handler=worker)
    first = staff(grid, Role.GRID_WORKER)
    first.first_name = "张三"
    first.save()
    services.accept(case=case, by=first)
    with pytest.raises(IllegalTransition) as error:
        services.accept(case=case, by=worker)
    assert error.value.message == "This case has already been accepted by 张三."


def test_return_needs_a_reason(case, dispatcher, worker):
    walk(case, to="dispatched", dispatcher=dispatcher, handler=worker)
    with pytest.raises(ValidationError) as error:
        services.return_case(case=case, by=worker, reason="  ")
    assert error.value.message_dict["reason"] == ["A reason is required to return a case."]
    case.refresh_from_db()
    assert case.status == S.DISPATCHED


def test_resolve_before_contacting_the_caller_is_refused(case, dispatcher, worker):
    walk(case, to="accepted", dispatcher=dispatcher, handler=worker)
    with pytest.raises(IllegalTransition) as error:
        services.resolve(case=case, by=worker, result="好了", nature="reasonable")
    assert "Contact the caller" in str(error.value.message)


def test_resolve_needs_a_result_and_a_nature(case, dispatcher, worker):
    walk(case, to="contacted", dispatcher=dispatcher, handler=worker)
    with pytest.raises(ValidationError) as error:
        services.resolve(case=case, by=worker, result="", nature="whatever")
    assert set(error.value.message_dict) == {"result", "nature"}


def test_a_stale_object_cannot_move_a_case_twice(case, grid, dispatcher, worker):
    walk(case, to="dispatched", dispatcher=dispatcher, handler=worker)
    stale = Case.objects.get(pk=case.pk)
    services.accept(case=case, by=worker)
    with pytest.raises(IllegalTransition):
        services.accept(case=stale, by=staff(grid, Role.GRID_WORKER))
    assert _actions(case).count("accepted") == 1


# --- dispatch, return, reassign, co-handling -------------------------------------------


def test_dispatch_notifies_the_handling_unit_s_staff_only(case, grid, sibling_grid, dispatcher):
    caseworker, grid_worker, unit_dispatcher = (
        staff(grid, Role.CASEWORKER), staff(grid, Role.GRID_WORKER), staff(grid.parent, Role.DISPATCHER)
    )
    staff(grid, Role.SUPERVISOR)
    staff(sibling_grid, Role.GRID_WORKER)
    services.dispatch(case=case, to_unit=grid, by=dispatcher)
    notified = set(Notification.objects.filter(kind="dispatched").values_list("user", flat=True))
    assert notified == {caseworker.pk, grid_worker.pk}
    assert unit_dispatcher.pk not in notified  # the community's dispatcher: not the handling unit


def test_dispatch_notifications_take_a_fixed_number_of_queries(street, grid, dispatcher):
    counts = []
    for n in (2, 12):
        for _i in range(n):
            staff(grid, Role.CASEWORKER)
        case = new_case(place=grid)
        fresh = type(dispatcher).objects.get(pk=dispatcher.pk)
        with CaptureQueriesContext(connection) as queries:
            services.dispatch(case=case, to_unit=grid, by=fresh)
        counts.append(len(queries))
    assert Notification.objects.filter(kind="dispatched").count() == 2 + 14
    assert counts[0] == counts[1]


def test_dispatch_outside_the_dispatcher_s_tree_is_refused(case, sibling_street, dispatcher):
    other = CommunityFactory(parent=sibling_street)
    with pytest.raises(IllegalTransition):
        services.dispatch(case=case, to_unit=other, by=dispatcher)


def test_dispatch_with_co_units_adds_co_handling(case, grid, sibling_grid, dispatcher):
    services.dispatch(case=case, to_unit=grid, by=dispatcher, co_units=[sibling_grid, grid])
    assert list(CoHandling.objects.filter(case=case).values_list("unit", flat=True)) == [sibling_grid.pk]


def test_a_dispatched_case_is_passed_down_by_the_unit_below(case, community, grid, dispatcher, street):
    services.dispatch(case=case, to_unit=community, by=dispatcher)
    community_dispatcher = staff(community, Role.DISPATCHER)
    case = services.dispatch(case=case, to_unit=grid, by=community_dispatcher)
    assert (case.unit, case.dispatching_unit) == (grid, street)
    with pytest.raises(IllegalTransition):
        services.dispatch(case=case, to_unit=community, by=community_dispatcher)


def test_return_goes_back_to_the_dispatching_unit_and_can_be_dispatched_again(case, street, grid, dispatcher, worker):
    walk(case, to="accepted", dispatcher=dispatcher, handler=worker)
    case = services.return_case(case=case, by=worker, reason="不属于本网格")
    case.refresh_from_db()
    assert (case.status, case.unit, case.unit_path, case.handler) == (S.RETURNED, street, street.path, None)
    assert case.events.last().note == "不属于本网格"
    case = services.dispatch(case=case, to_unit=grid, by=dispatcher)
    assert case.status == S.DISPATCHED


def test_reassign_moves_the_case_and_clears_the_handler(case, grid, sibling_grid, dispatcher, worker):
    walk(case, to="contacted", dispatcher=dispatcher, handler=worker)
    other = staff(sibling_grid, Role.GRID_WORKER)
    case = services.reassign(case=case, to_unit=sibling_grid, by=dispatcher, note="改派二网格")
    case.refresh_from_db()
    assert (case.status, case.unit, case.handler) == (S.DISPATCHED, sibling_grid, None)
    assert Notification.objects.filter(user=other, case=case, kind="dispatched").exists()
    services.accept(case=case, by=other)


def test_reassign_is_for_the_dispatching_tier_only(case, grid, sibling_grid, community, dispatcher, worker):
    walk(case, to="dispatched", dispatcher=dispatcher, handler=worker)
    with pytest.raises(IllegalTransition) as error:
        services.reassign(case=case, to_unit=sibling_grid, by=staff(community, Role.DISPATCHER))
    assert error.value.message == "Only the unit that dispatched this case can do that."


def test_co_handling_unit_adds_progress_but_does_not_accept(case, grid, sibling_grid, dispatcher, worker):
    services.dispatch(case=case, to_unit=grid, by=dispatcher, co_units=[sibling_grid])
    helper = staff(sibling_grid, Role.GRID_WORKER)
    with pytest.raises(IllegalTransition):
        services.accept(case=case, by=helper)
    services.accept(case=case, by=worker)
    services.record_contact(case=case, by=worker, method="visit", summary="上门了解情况")
    services.add_progress(case=case, by=helper, note="二网格协助清理")
    assert case.events.last().actor == helper


def test_add_co_handler_twice_is_refused(case, grid, sibling_grid, dispatcher):
    services.dispatch(case=case, to_unit=grid, by=dispatcher)
    services.add_co_handler(case=case, unit=sibling_grid, by=dispatcher)
    with pytest.raises(IllegalTransition):
        services.add_co_handler(case=case, unit=sibling_grid, by=dispatcher)
    with pytest.raises(IllegalTransition):
        services.add_co_handler(case=case, unit=grid, by=dispatcher)


# --- permissions per role ---------------------------------------------------------------


@pytest.mark.parametrize(("role", "may"), [
    (Role.DISPATCHER, True), (Role.SECRETARY, False), (Role.DIRECTOR, False), (Role.SUPERVISOR, False),
    (Role.CASEWORKER, False), (Role.ADMINISTRATOR, False),
])
def test_who_may_dispatch(case, street, grid, role, may):
    user = staff(street, role)
    if may:
        services.dispatch(case=case, to_unit=grid, by=user)
    else:
        with pytest.raises(IllegalTransition) as error:
            services.dispatch(case=case, to_unit=grid, by=user)
        assert error.value.message == "Your role does not allow you to do that."


@pytest.mark.parametrize(("role", "where", "may"), [
    (Role.GRID_WORKER, "grid", True),
    (Role.CASEWORKER, "grid", True),
    (Role.GRID_WORKER, "sibling_grid", False),
    (Role.CASEWORKER, "sibling_community", False),
    (Role.DISPATCHER, "grid_parent", False),
    (Role.SUPERVISOR, "grid", False),
    (Role.SECRETARY, "grid_parent", False),
])
def test_who_may_accept(request, case, grid, dispatcher, role, where, may):
    services.dispatch(case=case, to_unit=grid, by=dispatcher)
    unit = grid.parent if where == "grid_parent" else request.getfixturevalue(where)
    user = staff(unit, role)
    if may:
        assert services.accept(case=case, by=user).handler == user
    else:
        with pytest.raises(IllegalTransition):
            services.accept(case=case, by=user)


def test_a_caseworker_above_the_handling_unit_sees_but_does_not_handle(case, community, grid, dispatcher):
    services.dispatch(case=case, to_unit=grid, by=dispatcher)
    with pytest.raises(IllegalTransition) as error:
        services.accept(case=case, by=staff(community, Role.CASEWORKER))
    assert error.value.message == "Only the handling unit can do that."


def test_a_department_liaison_handles_only_with_a_grant(area, case, grid, dispatcher):
    from communities.services import grant_object

    services.dispatch(case=case, to_unit=grid, by=dispatcher)
    liaison = staff(area, Role.DEPARTMENT_LIAISON)
    grant_object(obj=case, to=liaison, perm="view_case")
    with pytest.raises(IllegalTransition):
        services.accept(case=case, by=liaison)
    grant_object(obj=case, to=liaison, perm="handle_case")
    liaison = type(liaison).objects.get(pk=liaison.pk)
    assert services.accept(case=case, by=liaison).handler == liaison


def test_an_inactive_or_anonymous_actor_is_refused(case, grid, dispatcher):
    from django.contrib.auth.models import AnonymousUser

    dispatcher.is_active = False
    with pytest.raises(IllegalTransition):
        services.dispatch(case=case, to_unit=grid, by=dispatcher)
    with pytest.raises(IllegalTransition):
        services.dispatch(case=case, to_unit=grid, by=AnonymousUser())


# --- extensions -------------------------------------------------------------------------


@pytest.fixture
def handled(case, dispatcher, worker):
    return walk(case, to="contacted", dispatcher=dispatcher, handler=worker)


def test_approved_extension_moves_the_deadline_and_tells_the_requester(handled, dispatcher, worker):
    new_due = handled.resolve_due_at + timedelta(days=5)
    extension = services.request_extension(case=handled, by=worker, new_due_at=new_due, reason="等待配件")
    extension = services.decide_extension(extension=extension, by=dispatcher, approve=True, note="同意")
    handled.refresh_from_db()
    assert extension.decision == "approved" and extension.decided_by == dispatcher
    assert handled.resolve_due_at == new_due
    assert Notification.objects.filter(user=worker, kind="extension_decided").count() == 1
    assert _actions(handled)[-2:] == ["extension_requested", "extension_approved"]


def test_refused_extension_keeps_the_deadline(handled, dispatcher, worker):
    due = handled.resolve_due_at
    extension = services.request_extension(case=handled, by=worker, new_due_at=due + timedelta(days=1), reason="x")
    services.decide_extension(extension=extension, by=dispatcher, approve=False, note="请按时办结")
    handled.refresh_from_db()
    assert handled.resolve_due_at == due
    with pytest.raises(IllegalTransition):
        services.decide_extension(extension=extension, by=dispatcher, approve=True)


def test_only_one_pending_extension_and_only_a_later_deadline(handled, worker):
    with pytest.raises(ValidationError):
        services.request_extension(case=handled, by=worker, new_due_at=handled.resolve_due_at, reason="x")
    with pytest.raises(ValidationError):
        services.request_extension(case=handled, by=worker, new_due_at=handled.resolve_due_at + timedelta(days=1), reason="")
    services.request_extension(case=handled, by=worker, new_due_at=handled.resolve_due_at + timedelta(days=1), reason="x")
    with pytest.raises(IllegalTransition):
        services.request_extension(case=handled, by=worker, new_due_at=handled.resolve_due_at + timedelta(days=2), reason="y")


def test_extension_is_decided_by_the_dispatching_tier(handled, community, worker):
    extension = services.request_extension(
        case=handled, by=worker, new_due_at=handled.resolve_due_at + timedelta(days=1), reason="x"
    )
    with pytest.raises(IllegalTransition):
        services.decide_extension(extension=extension, by=staff(community, Role.DIRECTOR), approve=True)
    street_director = staff(community.parent, Role.DIRECTOR)
    assert services.decide_extension(extension=extension, by=street_director, approve=True).decision == "approved"


# --- return visit, reopen, merge ----------------------------------------------------------


def test_not_resolved_reopens_for_the_dispatcher_and_keeps_the_history(case, street, grid, dispatcher, worker):
    walk(case, to="resolved", dispatcher=dispatcher, handler=worker)
    desk = staff(street, Role.DISPATCHER)
    case = services.rate(case=case, resolved=False, satisfaction="unsatisfied", channel="web", comment="灯还是不亮")
    case.refresh_from_db()
    assert (case.status, case.unit, case.handler) == (S.RETURNED, street, None)
    assert (case.rated_resolved, case.satisfaction) == (False, "unsatisfied")
    assert set(Notification.objects.filter(kind="reopened").values_list("user", flat=True)) == {dispatcher.pk, desk.pk}
    assert _actions(case)[-2:] == ["rated", "reopened"]

    walk(case, to="resolved", dispatcher=dispatcher, handler=worker)
    case = services.rate(case=case, resolved=True, satisfaction="basic", channel="web")
    case.refresh_from_db()
    assert (case.status, case.rated_resolved, case.satisfaction) == (S.CLOSED, True, "basic")
    assert list(ReturnVisit.objects.filter(case=case).values_list("satisfaction", flat=True)) == ["unsatisfied", "basic"]


def test_phone_return_visit_needs_the_permission(case, street, dispatcher, worker):
    walk(case, to="resolved", dispatcher=dispatcher, handler=worker)
    with pytest.raises(IllegalTransition):
        services.rate(case=case, resolved=True, satisfaction="satisfied", channel="phone", by=worker)
    services.rate(case=case, resolved=True, satisfaction="satisfied", channel="phone", by=dispatcher)
    assert ReturnVisit.objects.get(case=case).by == dispatcher


def test_a_closed_case_rated_again_keeps_the_latest_rating(case, dispatcher, worker):
    walk(case, to="closed", dispatcher=dispatcher, handler=worker)
    services.rate(case=case, resolved=True, satisfaction="basic", channel="phone", by=dispatcher)
    case.refresh_from_db()
    assert (case.status, case.satisfaction) == (S.CLOSED, "basic")


def test_rate_refuses_bad_input(case, dispatcher, worker):
    walk(case, to="resolved", dispatcher=dispatcher, handler=worker)
    with pytest.raises(ValidationError):
        services.rate(case=case, resolved=True, satisfaction="ecstatic", channel="web")
    assert not ReturnVisit.objects.exists()


def test_merge_keeps_both_timelines_and_sends_ratings_to_the_lead(grid, building, dispatcher, worker):
    lead = new_case(place=grid, building=building)
    duplicate = new_case(place=grid, building=building)
    services.merge(case=duplicate, into=lead, by=dispatcher, note="同一盏灯")
    duplicate.refresh_from_db()
    assert (duplicate.status, duplicate.merged_into) == (S.MERGED, lead)
    assert _actions(duplicate)[-1] == "merged" and _actions(lead)[-1] == "duplicate_merged"

    walk(lead, to="resolved", dispatcher=dispatcher, handler=worker)
    services.rate(case=duplicate, resolved=True, satisfaction="satisfied", channel="web")
    lead.refresh_from_db()
    assert lead.status == S.CLOSED and lead.satisfaction == "satisfied"
    # The caller's return visit is kept on their own case; the lead holds it as its current rating.
    assert not ReturnVisit.objects.filter(case=lead).exists() and ReturnVisit.objects.filter(case=duplicate).exists()
    services.add_information(case=duplicate, text="谢谢")
    assert _actions(lead)[-1] == "information_added"


def test_merge_into_itself_or_a_merged_case_is_refused(grid, dispatcher):
    a, b, c = (new_case(place=grid) for _i in range(3))
    with pytest.raises(IllegalTransition):
        services.merge(case=a, into=a, by=dispatcher)
    services.merge(case=b, into=c, by=dispatcher)
    with pytest.raises(IllegalTransition):
        services.merge(case=a, into=b, by=dispatcher)


# --- supervision, exclusion, information, phone -----------------------------------------


def test_supervision_flags_notifies_the_handler_and_lifts(handled, community, worker):
    secretary = staff(community.parent, Role.SECRETARY)
    due = timezone.now() + timedelta(days=1)
    supervision = services.supervise(case=handled, by=secretary, unit=community.parent, comment="三天内回复", due_at=due)
    handled.refresh_from_db()
    assert handled.is_supervised and supervision.unit == community.parent
    assert list(Notification.objects.filter(kind="supervised").values_list("user", flat=True)) == [worker.pk]
    second = services.supervise(case=handled, by=secretary, unit=community.parent, comment="再催", due_at=due)
    services.lift_supervision(supervision=supervision, by=secretary)
    handled.refresh_from_db()
    assert handled.is_supervised  # the second one still stands
    services.lift_supervision(supervision=second, by=secretary)
    handled.refresh_from_db()
    assert not handled.is_supervised
    with pytest.raises(IllegalTransition):
        services.lift_supervision(supervision=second, by=secretary)


def test_supervision_before_acceptance_notifies_the_unit(case, grid, dispatcher):
    services.dispatch(case=case, to_unit=grid, by=dispatcher)
    caseworker = staff(grid, Role.CASEWORKER)
    director = staff(grid.parent.parent, Role.DIRECTOR)
    services.supervise(case=case, by=director, unit=grid.parent.parent, comment="尽快", due_at=timezone.now() + timedelta(hours=4))
    assert Notification.objects.get(kind="supervised").user == caseworker


def test_supervision_needs_the_role_and_a_unit_above(handled, community, grid):
    with pytest.raises(IllegalTransition):
        services.supervise(case=handled, by=staff(community, Role.SUPERVISOR), unit=community, comment="x",
                           due_at=timezone.now() + timedelta(days=1))
    secretary = staff(community, Role.SECRETARY)
    with pytest.raises(ValidationError):
        services.supervise(case=handled, by=secretary, unit=CommunityFactory(parent=community.parent), comment="x",
                           due_at=timezone.now() + timedelta(days=1))
    assert not Supervision.objects.exists()


def test_exclusion_from_rates_needs_a_reason_and_happens_once(case, dispatcher):
    with pytest.raises(ValidationError):
        services.exclude_from_rates(case=case, by=dispatcher, reason="")
    services.exclude_from_rates(case=case, by=dispatcher, reason="无理诉求")
    case.refresh_from_db()
    assert case.excluded_from_rates and case.exclusion_reason == "无理诉求"
    with pytest.raises(IllegalTransition):
        services.exclude_from_rates(case=case, by=dispatcher, reason="again")


def test_resident_adds_information_as_a_public_event(case):
    services.add_information(case=case, text="灯在五单元三楼")
    event = case.events.last()
    assert (event.action, event.public, event.actor, event.note) == ("information_added", True, None, "灯在五单元三楼")
    with pytest.raises(ValidationError):
        services.add_information(case=case, text=" ")


def test_the_handler_reveals_the_phone_and_it_is_logged(case, grid, dispatcher, worker):
    case = walk(case, to="accepted", dispatcher=dispatcher, handler=worker)
    assert can_see_full_phone(worker, case)
    assert services.reveal_phone(case=case, by=worker) == "13812345678"
    assert PhoneReveal.objects.filter(case=case, by=worker).count() == 1
    event = case.events.last()
    assert (event.action, event.public) == ("phone_revealed", False)


def test_nobody_but_the_handler_reveals_the_phone(case, grid, dispatcher, worker):
    case = walk(case, to="accepted", dispatcher=dispatcher, handler=worker)
    colleague = staff(grid, Role.GRID_WORKER)
    for user in (colleague, dispatcher):
        assert not can_see_full_phone(user, case)
        with pytest.raises(IllegalTransition):
            services.reveal_phone(case=case, by=user)
    assert not PhoneReveal.objects.exists()
    root = UserFactory(is_superuser=True)
    assert services.reveal_phone(case=case, by=root) == "13812345678"


# --- what the case page may offer -------------------------------------------------------


def test_allowed_actions_follow_the_table_and_the_actor(case, grid, dispatcher, worker):
    case = services.dispatch(case=case, to_unit=grid, by=dispatcher)
    assert services.allowed_actions(case, worker) == {"accept", "return"}
    assert {"reassign", "add_co_handler", "exclude_from_rates", "merge"} <= services.allowed_actions(case, dispatcher)
    assert "accept" not in services.allowed_actions(case, dispatcher)
    case = services.accept(case=case, by=worker)
    assert services.allowed_actions(case, worker) == {"contact", "progress", "request_extension", "return", "reveal_phone"}


def test_allowed_actions_offer_decisions_only_when_there_is_something_to_decide(handled, dispatcher, worker):
    assert "decide_extension" not in services.allowed_actions(handled, dispatcher)
    services.request_extension(case=handled, by=worker, new_due_at=handled.resolve_due_at + timedelta(days=2), reason="x")
    assert "decide_extension" in services.allowed_actions(handled, dispatcher)
    assert "request_extension" not in services.allowed_actions(handled, worker)


def test_intake_needs_a_place(grid):
    with pytest.raises(ValidationError) as error:
        new_case(place=None)
    assert "location_unit" in error.value.message_dict


def test_nobody_is_notified_of_their_own_dispatch(street):
    desk = staff(street, Role.DISPATCHER)
    services.dispatch(case=new_case(place=street), to_unit=street, by=desk)
    assert not Notification.objects.filter(user=desk).exists()


def test_only_the_supervising_unit_lifts_its_supervision(handled, community, grid):
    street_secretary = staff(community.parent, Role.SECRETARY)
    supervision = services.supervise(
        case=handled, by=street_secretary, unit=community.parent, comment="限期办结",
        due_at=timezone.now() + timedelta(days=1),
    )
    with pytest.raises(IllegalTransition):
        services.lift_supervision(supervision=supervision, by=staff(community, Role.SECRETARY))
    services.lift_supervision(supervision=supervision, by=street_secretary)


def test_a_handle_grant_without_sight_of_the_case_is_not_enough(area, case, grid, dispatcher):
    from communities.services import grant_object

    services.dispatch(case=case, to_unit=grid, by=dispatcher)
    liaison = staff(area, Role.DEPARTMENT_LIAISON)
    grant_object(obj=case, to=liaison, perm="handle_case")
    with pytest.raises(IllegalTransition):
        services.accept(case=case, by=type(liaison).objects.get(pk=liaison.pk))


def test_the_resident_rates_each_result_once_but_staff_may_call_back(case, dispatcher, worker):
    walk(case, to="resolved", dispatcher=dispatcher, handler=worker)
    services.rate(case=case, resolved=True, satisfaction="basic", channel="web")
    with pytest.raises(IllegalTransition) as error:
        services.rate(case=case, resolved=False, satisfaction="unsatisfied", channel="web")
    assert error.value.message == "This case has already been rated. Thank you."
    services.rate(case=case, resolved=True, satisfaction="satisfied", channel="phone", by=dispatcher)
    assert ReturnVisit.objects.filter(case=case).count() == 2


def test_a_case_closed_without_a_rating_can_still_be_rated_by_the_resident(case, dispatcher, worker):
    walk(case, to="closed", dispatcher=dispatcher, handler=worker)
    case = services.rate(case=case, resolved=True, satisfaction="satisfied", channel="web")
    assert (case.status, case.satisfaction) == (S.CLOSED, "satisfied")


# --- what each role may do (the role groups' permissions, from the migration) -----------

CASE_PERMS = {
    "view_case", "dispatch_case", "handle_case", "supervise_case", "decide_extension",
    "record_return_visit", "import_cases", "export_case", "reveal_phone",
}
ROLE_CASE_PERMS = {
    Role.DISPATCHER: {"view_case", "dispatch_case", "import_cases", "export_case", "decide_extension",
                      "record_return_visit"},
    Role.CASEWORKER: {"view_case", "handle_case", "reveal_phone"},
    Role.GRID_WORKER: {"view_case", "handle_case", "reveal_phone"},
    Role.SECRETARY: {"view_case", "supervise_case", "export_case", "decide_extension"},
    Role.DIRECTOR: {"view_case", "supervise_case", "export_case", "decide_extension"},
    Role.DEPUTY_DIRECTOR: {"view_case", "supervise_case", "export_case", "decide_extension"},
    Role.SUPERVISOR: {"view_case", "export_case"},
    Role.DEPARTMENT_LIAISON: {"view_case", "handle_case"},
    Role.ADMINISTRATOR: {"view_case"},
}


@pytest.mark.parametrize("role", list(ROLE_CASE_PERMS))
def test_each_role_holds_exactly_its_case_permissions(area, grid, role):
    unit = grid if role in (Role.GRID_WORKER, Role.CASEWORKER) else area
    user = staff(unit, role)
    held = {perm for perm in CASE_PERMS if user.has_perm(f"cases.{perm}")}
    assert held == ROLE_CASE_PERMS[role]


def test_only_administrators_edit_the_taxonomy(area):
    assert staff(area, Role.ADMINISTRATOR).has_perm("cases.change_categorydeadline")
    assert not staff(area, Role.DIRECTOR).has_perm("cases.change_category")
