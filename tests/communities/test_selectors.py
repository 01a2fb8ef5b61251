"""The one scoping rule and the reads the tree pages share."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db.models import Count

from communities import selectors, services
from communities.models import Building, Role, Unit
from tests import factories as f


def _unit(pk: int, path: str, level: str, parent: Unit | None = None) -> Unit:
    """A unit with a chosen primary key, so paths like /7001/72/ and /7001/723/ exist side by side."""
    unit = Unit(pk=pk, name=f"单位{pk}", code=f"u{pk}", level=level, parent=parent, path=path, depth=path.count("/") - 2)
    Unit.objects.bulk_create([unit])
    return unit


def test_nested_posts_collapse_to_the_outer_subtree(community, grid):
    user = f.staff(community, Role.DIRECTOR)
    services.assign_post(user=user, unit=grid, role=Role.CASEWORKER)

    assert selectors.subtree_paths(user) == [community.path]
    assert selectors.path_q(user, "path") == selectors.path_q(f.staff(community), "path")


def test_separate_posts_give_one_root_each(community, sibling_community):
    user = f.staff(community)
    services.assign_post(user=user, unit=sibling_community, role=Role.CASEWORKER)

    assert selectors.subtree_paths(user) == sorted([community.path, sibling_community.path])
    assert set(selectors.visible_units(user)) == {community, sibling_community}


def test_a_path_prefix_does_not_confuse_unit_2_with_unit_23(db):
    area = _unit(7001, "/7001/", Unit.Level.AREA)
    street_72 = _unit(72, "/7001/72/", Unit.Level.STREET, area)
    street_723 = _unit(723, "/7001/723/", Unit.Level.STREET, area)
    community_in_723 = _unit(7231, "/7001/723/7231/", Unit.Level.COMMUNITY, street_723)
    building_in_723 = Building.objects.create(unit=community_in_723, name="723号院1号楼")
    user = f.staff(street_72, Role.DIRECTOR)

    assert list(selectors.visible_units(user)) == [street_72]
    assert building_in_723 not in selectors.visible_buildings(user)
    assert selectors.subtree_counts(user, [street_72])[street_72.pk].units == 0


def test_in_subtree_takes_the_user_then_the_path_and_agrees_with_the_filter(community, grid, sibling_community, street):
    """``in_subtree(user, path)``: the user first, then a unit's path; the same answer as ``path_q``."""
    user = f.staff(community, Role.DIRECTOR)

    assert selectors.in_subtree(user, community.path)
    assert selectors.in_subtree(user, grid.path)
    assert not selectors.in_subtree(user, sibling_community.path)
    assert not selectors.in_subtree(user, street.path)  # above the post is not inside it
    assert not selectors.in_subtree(AnonymousUser(), community.path)
    assert selectors.in_subtree(f.UserFactory(is_superuser=True), street.path)
    for unit in Unit.objects.all():
        assert selectors.in_subtree(user, unit.path) == Unit.objects.filter(selectors.path_q(user, "path"), pk=unit.pk).exists()


def test_in_subtree_does_not_confuse_unit_2_with_unit_23(db):
    area = _unit(7001, "/7001/", Unit.Level.AREA)
    street_72 = _unit(72, "/7001/72/", Unit.Level.STREET, area)
    street_723 = _unit(723, "/7001/723/", Unit.Level.STREET, area)
    user = f.staff(street_72, Role.DIRECTOR)

    assert selectors.in_subtree(user, street_72.path)
    assert not selectors.in_subtree(user, street_723.path)


def test_path_within_takes_the_inner_path_then_the_root(db):
    from communities.models import path_within

    area = _unit(7101, "/7101/", Unit.Level.AREA)
    street_2 = _unit(2, "/7101/2/", Unit.Level.STREET, area)
    street_23 = _unit(23, "/7101/23/", Unit.Level.STREET, area)
    assert path_within(street_2.path, area.path) and street_2.is_within(area)
    assert path_within(area.path, area.path)
    assert not path_within(area.path, street_2.path) and not area.is_within(street_2)
    assert not path_within(street_23.path, street_2.path)


def test_superuser_sees_everything(street, sibling_street, building, sibling_building):
    admin = f.UserFactory(is_superuser=True)

    assert selectors.subtree_paths(admin) is selectors.EVERYWHERE
    assert selectors.visible_units(admin).count() == Unit.objects.count()
    assert set(selectors.visible_buildings(admin)) == {building, sibling_building}
    assert selectors.tree_roots(admin) == [street.parent]


@pytest.mark.parametrize("make_inactive", [True, False])
def test_inactive_users_see_nothing(community, building, make_inactive):
    user = f.staff(community, Role.DIRECTOR)
    if make_inactive:
        user.is_active = False
        user.save(update_fields=["is_active"])

    visible = selectors.visible_units(user).exists()

    assert visible is not make_inactive
    assert (selectors.subtree_paths(user) == []) is make_inactive


def test_inactive_superuser_sees_nothing(building):
    admin = f.UserFactory(is_superuser=True, is_active=False)
    assert selectors.subtree_paths(admin) == []
    assert not selectors.visible_buildings(admin).exists()


def test_anonymous_user_sees_nothing(building):
    assert selectors.subtree_paths(AnonymousUser()) == []
    assert not selectors.visible_units(AnonymousUser()).exists()
    assert not selectors.visible_buildings(AnonymousUser()).exists()


def test_an_ended_post_no_longer_scopes(community, building):
    user = f.staff(community, Role.CASEWORKER)
    services.end_post(post=user.posts.get())

    assert selectors.subtree_paths(user) == []
    assert not selectors.visible_buildings(user).exists()


def test_ancestor_paths_are_the_units_above_and_the_posts_own(area, street, community):
    user = f.staff(community)
    assert selectors.ancestor_paths(user) == sorted([area.path, street.path, community.path])


def test_partners_in_reach_are_those_in_the_subtree_and_above_it(street, community, sibling_community):
    above = f.PartnerFactory(unit=street, name="供暖公司")
    own = f.PartnerFactory(unit=community, name="物业")
    beside = f.PartnerFactory(unit=sibling_community, name="别的物业")
    user = f.staff(community)

    assert set(selectors.visible_partners(user)) == {above, own}
    assert beside not in selectors.visible_partners(user)


def test_tree_roots_are_the_outermost_post_units(community, grid, sibling_community):
    user = f.staff(community, Role.DIRECTOR)
    services.assign_post(user=user, unit=grid, role=Role.CASEWORKER)
    services.assign_post(user=user, unit=sibling_community, role=Role.CASEWORKER)

    assert {unit.pk for unit in selectors.tree_roots(user)} == {community.pk, sibling_community.pk}


def test_subtree_counts_sum_units_buildings_households_and_area(community, grid, sibling_grid, building):
    f.HouseholdFactory.create_batch(3, stairwell=f.StairwellFactory(building=building), area=Decimal("50.5"))
    f.BuildingFactory(unit=sibling_grid)
    user = f.staff(community, Role.DIRECTOR)

    counts = selectors.subtree_counts(user, [community, grid, sibling_grid])

    assert (counts[community.pk].units, counts[community.pk].buildings) == (2, 2)
    assert (counts[community.pk].households, counts[community.pk].area) == (3, Decimal("151.5"))
    assert (counts[grid.pk].units, counts[grid.pk].buildings, counts[grid.pk].households) == (0, 1, 3)
    assert (counts[sibling_grid.pk].buildings, counts[sibling_grid.pk].households) == (1, 0)


def test_subtree_counts_leave_out_what_the_user_may_not_see(street, community, grid, sibling_grid, building):
    f.HouseholdFactory(stairwell=f.StairwellFactory(building=building))
    f.BuildingFactory(unit=sibling_grid)
    grid_worker = f.staff(grid, Role.GRID_WORKER)

    counts = selectors.subtree_counts(grid_worker, [community])[community.pk]

    assert (counts.units, counts.buildings, counts.households) == (1, 1, 1)


def test_building_layout_groups_households_by_floor_top_first(building):
    stairwell = f.StairwellFactory(building=building, number=1)
    for floor, room, area in [(1, "101", "60.00"), (1, "102", "75.50"), (2, "201", "60.00")]:
        f.HouseholdFactory(stairwell=stairwell, floor=floor, room=room, area=Decimal(area))
    f.HouseholdFactory(stairwell=f.StairwellFactory(building=building, number=2), floor=1, room="101", occupied=False)

    layout = selectors.building_layout(building)

    first = layout.stairwells[0]
    assert [floor.number for floor in first.floors] == [2, 1]
    assert [h.room for h in first.floors[1].households] == ["101", "102"]
    assert first.floors[1].area == Decimal("135.50")
    assert (layout.households, layout.occupied, layout.area) == (4, 3, Decimal("255.50"))


def test_breadcrumbs_stop_at_what_the_user_may_open(area, street, community, grid):
    user = f.staff(community)

    assert selectors.breadcrumbs(user, grid) == [community]
    assert selectors.breadcrumbs(user, grid, include_self=True) == [community, grid]
    assert selectors.breadcrumbs(f.UserFactory(is_superuser=True), grid) == [area, street, community]


def test_child_bucket_groups_every_unit_below_onto_its_child_and_does_not_confuse_72_with_723(db):
    area = _unit(7001, "/7001/", Unit.Level.AREA)
    street_72 = _unit(72, "/7001/72/", Unit.Level.STREET, area)
    street_723 = _unit(723, "/7001/723/", Unit.Level.STREET, area)
    _unit(7231, "/7001/723/7231/", Unit.Level.COMMUNITY, street_723)
    _unit(7232, "/7001/723/7232/", Unit.Level.COMMUNITY, street_723)
    _unit(721, "/7001/72/721/", Unit.Level.COMMUNITY, street_72)

    rows = (
        Unit.objects.filter(path__startswith=area.path)
        .annotate(bucket=selectors.child_bucket(area, [street_72, street_723], "path"))
        .values_list("bucket")
        .annotate(n=Count("pk"))
        .order_by("bucket")
    )

    # One row per child (each with the units below it), and one for the unit's own row.
    assert list(rows) == [(72, 2), (723, 3), (7001, 1)]


def test_child_bucket_of_a_unit_without_children_is_the_unit(db):
    grid = _unit(7009, "/7009/", Unit.Level.GRID)
    rows = Unit.objects.filter(pk=grid.pk).annotate(bucket=selectors.child_bucket(grid, [], "path"))
    assert list(rows.values_list("bucket", flat=True)) == [7009]
