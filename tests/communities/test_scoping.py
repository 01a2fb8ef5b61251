"""The scoping matrix: every role at every tier where it exists sees exactly its subtree.

The tree used here:

    area
    ├── street_a ── community_a1 ── grid_a1x, grid_a1y
    │           └── community_a2 ── grid_a2x
    └── street_b ── community_b1 ── grid_b1x

Every grid has one building. A post on one of area / street_a / community_a1 / grid_a1x
must open exactly the unit and building pages under it; everything else answers 404.
"""

from dataclasses import dataclass

import pytest

from communities.models import GRANTS_ONLY_ROLES, ROLE_LEVELS, Building, Role, Unit
from communities.services import assign_post, end_post
from tests import factories as f

POST_UNIT = {
    Unit.Level.AREA: "area",
    Unit.Level.STREET: "street_a",
    Unit.Level.COMMUNITY: "community_a1",
    Unit.Level.GRID: "grid_a1x",
}
ROLE_AT_LEVEL = sorted((role, level) for role, levels in ROLE_LEVELS.items() for level in levels)


@dataclass
class Tree:
    units: dict[str, Unit]
    buildings: dict[str, Building]

    def under(self, name: str) -> tuple[set[str], set[str]]:
        root = self.units[name]
        units = {key for key, unit in self.units.items() if unit.is_within(root)}
        buildings = {key for key, building in self.buildings.items() if building.unit.is_within(root)}
        return units, buildings


@pytest.fixture
def tree(db) -> Tree:
    units = {"area": f.AreaFactory(code="area")}
    for street, parent in [("street_a", "area"), ("street_b", "area")]:
        units[street] = f.StreetFactory(parent=units[parent], code=street.replace("_", "-"))
    for community, parent in [("community_a1", "street_a"), ("community_a2", "street_a"), ("community_b1", "street_b")]:
        units[community] = f.CommunityFactory(parent=units[parent], code=community.replace("_", "-"))
    grids = [("grid_a1x", "community_a1"), ("grid_a1y", "community_a1"), ("grid_a2x", "community_a2"), ("grid_b1x", "community_b1")]
    buildings = {}
    for grid, parent in grids:
        units[grid] = f.GridFactory(parent=units[parent], code=grid.replace("_", "-"))
        buildings[f"building_{grid}"] = f.BuildingFactory(unit=units[grid])
    return Tree(units, buildings)


def _opens(client, objects: dict) -> set[str]:
    opened = set()
    for name, obj in objects.items():
        status = client.get(obj.get_absolute_url()).status_code
        assert status in (200, 404), (name, status)
        if status == 200:
            opened.add(name)
    return opened


@pytest.mark.parametrize(("role", "level"), ROLE_AT_LEVEL)
def test_each_role_opens_exactly_its_subtree(client, tree, role, level):
    post_unit = POST_UNIT[level]
    client.force_login(f.staff(tree.units[post_unit], role))
    expected_units, expected_buildings = tree.under(post_unit)
    if role in GRANTS_ONLY_ROLES:  # a liaison sees only what it is granted, not the area
        expected_units, expected_buildings = set(), set()

    assert _opens(client, tree.units) == expected_units
    assert _opens(client, tree.buildings) == expected_buildings


@pytest.mark.parametrize(("role", "level"), ROLE_AT_LEVEL)
def test_each_role_workspace_starts_at_its_post_with_every_child(client, tree, role, level):
    post_unit = tree.units[POST_UNIT[level]]
    client.force_login(f.staff(post_unit, role))

    trees = client.get("/workspace/").context["trees"]

    if role in GRANTS_ONLY_ROLES:
        assert trees == []
        return
    assert [entry["unit"] for entry in trees] == [post_unit]
    assert {child for child, _ in trees[0]["children"]} == set(post_unit.children.all())
    expected_units, expected_buildings = tree.under(POST_UNIT[level])
    assert trees[0]["counts"].units == len(expected_units) - 1
    assert trees[0]["counts"].buildings == len(expected_buildings)


def test_a_community_worker_cannot_open_the_street_or_area_page(client, tree):
    client.force_login(f.staff(tree.units["community_a1"], Role.CASEWORKER))

    assert client.get(tree.units["street_a"].get_absolute_url()).status_code == 404
    assert client.get(tree.units["area"].get_absolute_url()).status_code == 404


def test_a_sibling_community_unit_and_building_page_are_404(client, tree):
    client.force_login(f.staff(tree.units["community_a1"], Role.DIRECTOR))

    assert client.get(tree.units["community_a2"].get_absolute_url()).status_code == 404
    assert client.get(tree.buildings["building_grid_a2x"].get_absolute_url()).status_code == 404


def test_a_sibling_grid_unit_and_building_page_are_404_for_a_grid_worker(client, tree):
    client.force_login(f.staff(tree.units["grid_a1x"], Role.GRID_WORKER))

    assert client.get(tree.units["grid_a1y"].get_absolute_url()).status_code == 404
    assert client.get(tree.buildings["building_grid_a1y"].get_absolute_url()).status_code == 404
    assert client.get(tree.units["community_a1"].get_absolute_url()).status_code == 404


def test_a_street_page_lists_only_its_own_communities(client, tree):
    client.force_login(f.staff(tree.units["street_a"], Role.DIRECTOR))

    children = client.get(tree.units["street_a"].get_absolute_url()).context["children"]

    assert [child for child, _ in children] == [tree.units["community_a1"], tree.units["community_a2"]]


def test_breadcrumbs_do_not_link_above_the_post(client, tree):
    client.force_login(f.staff(tree.units["community_a1"], Role.CASEWORKER))

    response = client.get(tree.buildings["building_grid_a1x"].get_absolute_url())

    assert response.context["breadcrumbs"] == [tree.units["community_a1"], tree.units["grid_a1x"]]
    assert tree.units["street_a"].get_absolute_url() not in response.content.decode()


def test_a_user_whose_post_was_ended_sees_nothing(client, tree):
    user = f.staff(tree.units["street_a"], Role.DIRECTOR)
    end_post(post=user.posts.get())
    client.force_login(user)

    assert _opens(client, tree.units) == set()
    assert _opens(client, tree.buildings) == set()
    workspace = client.get("/workspace/")
    assert workspace.context["trees"] == []
    assert workspace.context["posts"] == []


def test_two_posts_open_both_subtrees_and_nothing_between(client, tree):
    user = f.staff(tree.units["grid_a1x"], Role.CASEWORKER)
    assign_post(user=user, unit=tree.units["community_b1"], role=Role.CASEWORKER)
    client.force_login(user)

    assert _opens(client, tree.units) == {"grid_a1x", "community_b1", "grid_b1x"}
    assert _opens(client, tree.buildings) == {"building_grid_a1x", "building_grid_b1x"}


def test_a_superuser_opens_everything(client, tree):
    client.force_login(f.UserFactory(is_superuser=True))

    assert _opens(client, tree.units) == set(tree.units)
    assert _opens(client, tree.buildings) == set(tree.buildings)
    assert [entry["unit"] for entry in client.get("/workspace/").context["trees"]] == [tree.units["area"]]


def test_staff_posts_on_the_unit_page_are_those_of_that_unit(client, tree):
    director = f.staff(tree.units["community_a1"], Role.DIRECTOR)
    f.staff(tree.units["community_a2"], Role.DIRECTOR)
    f.staff(tree.units["street_a"], Role.SECRETARY)
    client.force_login(director)

    posts = client.get(tree.units["community_a1"].get_absolute_url()).context["posts"]

    assert [post.user for post in posts] == [director]
