"""The role-aware admin: each administrator sees, chooses and edits only their subtree."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from communities import services
from communities.models import (
    Building,
    Department,
    Household,
    PartnerOrganisation,
    Post,
    Role,
    Stairwell,
    Unit,
)
from tests import factories as f

User = get_user_model()
COMMUNITY_MODELS = [Unit, Building, Stairwell, Household, Department, PartnerOrganisation, Post]
TIERS = ["area", "street", "community"]


@dataclass
class World:
    """Three communities (ours xc-3, its sibling xc-7, one in another street) with one
    object of every kind each, and an administrator at area, street and community."""

    units: dict[str, Unit]
    admins: dict[str, User]
    owned: list[tuple[object, Unit]] = field(default_factory=list)
    visible_units: dict[str, set[str]] = field(default_factory=dict)

    def own(self, obj, unit: Unit):
        self.owned.append((obj, unit))
        return obj

    def expected(self, tier: str, model) -> set[int]:
        names = self.visible_units[tier]
        allowed = {self.units[name].pk for name in names}
        return {obj.pk for obj, owner in self.owned if type(obj) is model and owner.pk in allowed}

    def of(self, model, unit_name: str):
        unit = self.units[unit_name]
        return next(obj for obj, owner in self.owned if type(obj) is model and owner == unit)


@pytest.fixture
def world(area, street, sibling_street, community, sibling_community, grid) -> World:
    far_community = f.CommunityFactory(parent=sibling_street, name="向阳东里社区", code="xy-dongli")
    units = {
        "area": area,
        "street": street,
        "sibling_street": sibling_street,
        "community": community,
        "grid": grid,
        "sibling_community": sibling_community,
        "sibling_grid": f.GridFactory(parent=sibling_community, name="星城第七社区第一网格"),
        "far_community": far_community,
        "far_grid": f.GridFactory(parent=far_community, name="向阳东里社区第一网格"),
    }
    admins = {tier: f.staff(units[tier], Role.ADMINISTRATOR) for tier in TIERS}
    world = World(units=units, admins=admins)
    for unit in units.values():
        world.own(unit, unit)
    for tier, admin_user in admins.items():
        world.own(admin_user.posts.get(), units[tier])
    world.own(f.DepartmentFactory(unit=area, name="燕山住建委"), area)
    world.own(f.PartnerFactory(unit=area, name="燕山供热", kind="heating"), area)
    for grid_name, community_name in [
        ("grid", "community"),
        ("sibling_grid", "sibling_community"),
        ("far_grid", "far_community"),
    ]:
        _furnish(world, units[grid_name], units[community_name])
    world.visible_units = {
        "area": set(units),
        "street": {"street", "community", "grid", "sibling_community", "sibling_grid"},
        "community": {"community", "grid"},
    }
    return world


def _furnish(world: World, grid: Unit, community: Unit) -> None:
    building = world.own(f.BuildingFactory(unit=grid), grid)
    stairwell = world.own(f.StairwellFactory(building=building, number=1), grid)
    world.own(f.HouseholdFactory(stairwell=stairwell), grid)
    world.own(f.PartnerFactory(unit=community), community)
    world.own(f.DepartmentFactory(unit=community), community)
    world.own(f.staff(grid, Role.CASEWORKER).posts.get(), grid)


def changelist_url(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def change_url(obj) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def listed(client, model) -> set[int]:
    response = client.get(changelist_url(model))
    assert response.status_code == 200
    return {obj.pk for obj in response.context["cl"].result_list}


def form_data(response) -> dict:
    """What a browser would post back for an unchanged admin change form (and its inlines)."""
    data = {}
    _add_form(data, response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for key, value in formset.management_form.initial.items():
            data[f"{formset.prefix}-{key}"] = value
        for form in formset.forms:
            _add_form(data, form)
    return data


def _add_form(data: dict, form) -> None:
    for name in form.fields:
        value = form[name].value()
        if value is None or value is False:
            continue
        data[form.add_prefix(name)] = "on" if value is True else value


# --- the scoping matrix -------------------------------------------------------------


@pytest.mark.parametrize("tier", TIERS)
@pytest.mark.parametrize("model", COMMUNITY_MODELS, ids=lambda m: m.__name__)
def test_each_changelist_shows_exactly_the_administrators_subtree(client, world, tier, model):
    client.force_login(world.admins[tier])

    assert listed(client, model) == world.expected(tier, model)


@pytest.mark.parametrize("model", COMMUNITY_MODELS, ids=lambda m: m.__name__)
def test_superuser_sees_every_object(client, world, model):
    client.force_login(f.UserFactory(username="root", is_superuser=True, is_staff=True))

    assert listed(client, model) == {obj.pk for obj, _ in world.owned if type(obj) is model}


@pytest.mark.parametrize("model", COMMUNITY_MODELS, ids=lambda m: m.__name__)
def test_sibling_community_object_is_404_on_change_delete_and_history(client, world, model):
    client.force_login(world.admins["community"])
    sibling_unit = "sibling_grid" if model in (Building, Stairwell, Household, Post) else "sibling_community"
    obj = world.of(model, sibling_unit)
    info = f"admin:{obj._meta.app_label}_{obj._meta.model_name}"

    for view in ("change", "delete", "history"):
        assert client.get(reverse(f"{info}_{view}", args=[obj.pk])).status_code == 404


def test_sibling_building_cannot_be_changed_by_post(client, world):
    client.force_login(world.admins["community"])
    building = world.of(Building, "sibling_grid")

    response = client.post(change_url(building), {"name": "改名", "unit": building.unit_id, "floors": 6})

    assert response.status_code == 404
    building.refresh_from_db()
    assert building.name != "改名"


def test_street_administrator_opens_a_building_of_either_community(client, world):
    client.force_login(world.admins["street"])

    assert client.get(change_url(world.of(Building, "sibling_grid"))).status_code == 200
    assert client.get(change_url(world.of(Building, "far_grid"))).status_code == 404


# --- choices offered in forms ---------------------------------------------------------


def _choices(client, url: str, field_name: str) -> set[int]:
    response = client.get(url)
    assert response.status_code == 200
    return set(response.context["adminform"].form.fields[field_name].queryset.values_list("pk", flat=True))


def test_unit_choices_are_limited_to_the_subtree(client, world):
    client.force_login(world.admins["community"])
    ours = {world.units["community"].pk, world.units["grid"].pk}

    assert _choices(client, reverse("admin:communities_unit_add"), "parent") == ours
    assert _choices(client, reverse("admin:communities_post_add"), "unit") == ours
    assert _choices(client, reverse("admin:communities_partnerorganisation_add"), "unit") == ours
    assert _choices(client, reverse("admin:communities_building_add"), "unit") == ours


def test_building_unit_choices_are_communities_and_grids_only(client, world):
    client.force_login(world.admins["street"])

    offered = _choices(client, reverse("admin:communities_building_add"), "unit")

    assert world.units["street"].pk not in offered
    assert world.units["grid"].pk in offered and world.units["sibling_community"].pk in offered


def test_related_choices_leave_out_other_communities(client, world):
    client.force_login(world.admins["community"])

    partners = _choices(client, reverse("admin:communities_building_add"), "property_manager")
    departments = _choices(client, reverse("admin:communities_post_add"), "department")
    stairwells = _choices(client, reverse("admin:communities_household_add"), "stairwell")
    users = _choices(client, reverse("admin:communities_post_add"), "user")

    assert world.of(PartnerOrganisation, "community").pk in partners
    assert world.of(PartnerOrganisation, "area").pk in partners  # a utility above us may be chosen
    assert world.of(PartnerOrganisation, "sibling_community").pk not in partners
    assert world.of(Department, "area").pk in departments
    assert world.of(Department, "sibling_community").pk not in departments
    assert stairwells == {world.of(Stairwell, "grid").pk}
    assert world.of(Post, "grid").user_id in users
    assert world.of(Post, "sibling_grid").user_id not in users


def test_a_sibling_unit_posted_by_hand_is_refused(client, world):
    client.force_login(world.admins["community"])

    response = client.post(
        reverse("admin:communities_building_add"),
        {"name": "越界楼", "unit": world.units["sibling_grid"].pk, "floors": 6, **_empty_inline("stairwells")},
    )

    assert response.status_code == 200
    assert "unit" in response.context["adminform"].form.errors
    assert not Building.objects.filter(name="越界楼").exists()


def _empty_inline(prefix: str) -> dict:
    return {f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0}


# --- units: moves and the level rule ---------------------------------------------------


def test_moving_a_community_in_the_admin_rewrites_its_grids_paths(client, world):
    client.force_login(world.admins["area"])
    community, grid = world.units["community"], world.units["grid"]
    data = form_data(client.get(change_url(community)))
    data["parent"] = world.units["sibling_street"].pk

    response = client.post(change_url(community), data)

    assert response.status_code == 302
    grid.refresh_from_db()
    assert grid.path.startswith(world.units["sibling_street"].path)


def test_breaking_the_level_rule_shows_an_error_and_moves_nothing(client, world):
    client.force_login(world.admins["area"])
    community = world.units["community"]
    data = form_data(client.get(change_url(community)))
    data["parent"] = world.units["area"].pk

    response = client.post(change_url(community), data)

    assert response.status_code == 200
    assert "parent" in response.context["adminform"].form.errors
    community.refresh_from_db()
    assert community.parent == world.units["street"]


def test_a_unit_with_children_cannot_change_level(client, world):
    client.force_login(world.admins["area"])
    community = world.units["community"]
    data = form_data(client.get(change_url(community)))
    data["level"] = Unit.Level.GRID

    response = client.post(change_url(community), data)

    assert "level" in response.context["adminform"].form.errors


def test_administrator_cannot_move_the_top_of_their_own_subtree(client, world):
    client.force_login(world.admins["street"])

    form = client.get(change_url(world.units["street"])).context["adminform"].form

    assert "parent" not in form.fields and "level" not in form.fields


def test_administrator_cannot_create_a_unit_outside_the_tree(client, world):
    client.force_login(world.admins["street"])

    response = client.post(
        reverse("admin:communities_unit_add"),
        {"name": "新工委", "code": "new-area", "level": Unit.Level.AREA, "sort_order": 0},
    )

    assert "parent" in response.context["adminform"].form.errors
    assert not Unit.objects.filter(code="new-area").exists()


# --- posts keep groups in step ----------------------------------------------------------


def _post_form(user, unit, role, *, active=True, **extra) -> dict:
    data = {"user": user.pk, "unit": unit.pk, "role": role, "portfolio": "", "department": "", "title": ""}
    if active:
        data["active"] = "on"
    return {**data, **extra}


def _account_added_by(client, username: str):
    """An account the logged-in administrator creates on the admin's add page."""
    password = "Xq9!long-pass"
    data = {"username": username, "usable_password": "true", "password1": password, "password2": password}
    assert client.post(reverse("admin:auth_user_add"), data).status_code == 302
    return User.objects.get(username=username)


def test_post_added_in_the_admin_gives_the_role_group(client, world):
    client.force_login(world.admins["community"])
    newcomer = _account_added_by(client, "newcomer")

    response = client.post(
        reverse("admin:communities_post_add"), _post_form(newcomer, world.units["grid"], Role.CASEWORKER)
    )

    assert response.status_code == 302
    assert newcomer.groups.filter(name=Role.CASEWORKER).exists()


def test_post_ended_in_the_admin_takes_the_group_and_staff_status_away(client, world):
    client.force_login(world.admins["community"])
    helper = f.staff(world.units["community"], Role.ADMINISTRATOR)
    post = helper.posts.get()
    assert helper.is_staff

    response = client.post(change_url(post), _post_form(helper, post.unit, Role.ADMINISTRATOR, active=False))

    assert response.status_code == 302
    helper.refresh_from_db()
    assert not helper.is_staff
    assert not helper.groups.filter(name=Role.ADMINISTRATOR).exists()


def test_changing_a_posts_role_ends_the_old_post_and_syncs_groups(client, world):
    client.force_login(world.admins["community"])
    post = world.of(Post, "grid")

    client.post(change_url(post), _post_form(post.user, post.unit, Role.GRID_WORKER))

    post.refresh_from_db()
    assert not post.active
    assert set(post.user.groups.values_list("name", flat=True)) == {Role.GRID_WORKER}


def test_role_not_existing_at_the_units_level_is_refused(client, world):
    client.force_login(world.admins["community"])
    newcomer = _account_added_by(client, "newcomer")

    response = client.post(
        reverse("admin:communities_post_add"),
        _post_form(newcomer, world.units["community"], Role.GRID_WORKER),
    )

    assert "role" in response.context["adminform"].form.errors
    assert not Post.objects.filter(user=newcomer).exists()


def test_deleting_a_post_in_the_admin_takes_the_group_away(client, world):
    client.force_login(world.admins["community"])
    post = world.of(Post, "grid")

    client.post(reverse("admin:communities_post_delete", args=[post.pk]), {"post": "yes"})

    assert not Post.objects.filter(pk=post.pk).exists()
    assert not post.user.groups.filter(name=Role.CASEWORKER).exists()


def test_post_added_on_the_user_page_syncs_groups_and_staff(client, world):
    client.force_login(world.admins["community"])
    newcomer = _account_added_by(client, "newcomer")
    data = form_data(client.get(change_url(newcomer)))
    data.update({"posts-0-unit": world.units["community"].pk, "posts-0-role": Role.ADMINISTRATOR})

    response = client.post(change_url(newcomer), data)

    assert response.status_code == 302
    newcomer.refresh_from_db()
    assert newcomer.is_staff
    assert newcomer.groups.filter(name=Role.ADMINISTRATOR).exists()


# --- accounts: no escalation --------------------------------------------------------------


@pytest.fixture
def accounts(world):
    return {
        "superuser": f.UserFactory(username="root", is_superuser=True, is_staff=True),
        "no_post": f.UserFactory(username="fresh"),
        "staff_no_post": f.UserFactory(username="outside_staff", is_staff=True),
    }


@pytest.mark.parametrize("tier", TIERS)
def test_user_changelist_shows_post_holders_of_the_subtree_only(client, world, accounts, tier):
    client.force_login(world.admins[tier])
    holders = {world_post.user_id for world_post in Post.objects.filter(pk__in=world.expected(tier, Post))}

    assert listed(client, User) == holders


@pytest.mark.parametrize("tier", TIERS)
def test_an_account_without_post_or_tie_is_404_to_every_administrator(client, world, accounts, tier):
    """Not anyone's to reset: an account with no post was open to every administrator of the area."""
    fresh = accounts["no_post"]
    client.force_login(world.admins[tier])

    assert client.get(change_url(fresh)).status_code == 404
    password_url = reverse("admin:auth_user_password_change", args=[fresh.pk])
    assert client.get(password_url).status_code == 404
    data = {"usable_password": "true", "password1": "Taken0ver!pass", "password2": "Taken0ver!pass"}
    assert client.post(password_url, data).status_code == 404
    fresh.refresh_from_db()
    assert not fresh.check_password("Taken0ver!pass")


def test_a_volunteers_login_is_managed_only_where_the_volunteer_is_registered(client, world):
    from tests.volunteers.factories import VolunteerFactory

    login = f.UserFactory(username="laodu")
    VolunteerFactory(unit=world.units["sibling_community"], user=login, name="老杜")
    password_url = reverse("admin:auth_user_password_change", args=[login.pk])

    client.force_login(world.admins["community"])  # a sibling community's administrator
    assert login.pk not in listed(client, User)
    assert client.get(change_url(login)).status_code == 404
    assert client.get(password_url).status_code == 404

    client.force_login(world.admins["street"])  # the volunteer's street: theirs to manage
    assert login.pk in listed(client, User)
    assert client.get(password_url).status_code == 200


def test_superusers_are_invisible_to_administrators(client, world, accounts):
    client.force_login(world.admins["area"])

    assert accounts["superuser"].pk not in listed(client, User)
    assert client.get(change_url(accounts["superuser"])).status_code == 404
    password_url = reverse("admin:auth_user_password_change", args=[accounts["superuser"].pk])
    assert client.get(password_url).status_code == 404


def test_sibling_communitys_staff_account_is_404(client, world):
    client.force_login(world.admins["community"])

    assert client.get(change_url(world.of(Post, "sibling_grid").user)).status_code == 404


def test_administrator_cannot_grant_superuser_staff_or_groups(client, world):
    client.force_login(world.admins["area"])
    worker = world.of(Post, "grid").user
    response = client.get(change_url(worker))
    form = response.context["adminform"].form
    assert not {"is_superuser", "is_staff", "groups", "user_permissions"} & set(form.fields)
    data = form_data(response)
    data.update({"is_superuser": "on", "is_staff": "on", "groups": [Group.objects.get(name="administrator").pk]})
    data["first_name"] = "建国"

    response = client.post(change_url(worker), data)

    assert response.status_code == 302
    worker.refresh_from_db()
    assert worker.first_name == "建国"
    assert not worker.is_superuser and not worker.is_staff
    assert set(worker.groups.values_list("name", flat=True)) == {Role.CASEWORKER}


def test_superuser_may_still_edit_permissions(client, world, accounts):
    client.force_login(accounts["superuser"])

    form = client.get(change_url(world.of(Post, "grid").user)).context["adminform"].form

    assert {"is_superuser", "groups"} <= set(form.fields)


def test_account_with_a_post_elsewhere_is_read_only(client, world):
    worker = world.of(Post, "grid").user
    # The same person also works in the sibling community.
    services.assign_post(user=worker, unit=world.units["sibling_community"], role=Role.CASEWORKER)
    client.force_login(world.admins["community"])

    assert client.get(change_url(worker)).status_code == 200
    data = {"username": worker.username, "first_name": "改"}
    assert client.post(change_url(worker), data).status_code == 403
    worker.refresh_from_db()
    assert worker.first_name != "改"


def test_administrator_creates_an_account_then_sees_it(client, world):
    client.force_login(world.admins["community"])

    response = client.post(
        reverse("admin:auth_user_add"),
        {"username": "newhire", "usable_password": "true", "password1": "Xq9!long-pass", "password2": "Xq9!long-pass"},
    )

    newhire = User.objects.get(username="newhire")
    assert response.status_code == 302
    assert newhire.pk in listed(client, User)


def test_admin_header_names_the_portal(client, world):
    client.force_login(world.admins["community"])

    response = client.get(reverse("admin:index"))

    assert response.context["site_header"] == "接诉即办基层治理平台管理后台"


# --- a fixed number of queries ----------------------------------------------------------


def _grow(model, n: int, world: World) -> None:
    grid, community = world.units["grid"], world.units["community"]
    for _ in range(n):
        if model is Unit:
            f.GridFactory(parent=community)
        elif model in (Building, Stairwell, Household):
            f.HouseholdFactory(stairwell=f.StairwellFactory(building=f.BuildingFactory(unit=grid)))
        elif model is Department:
            f.DepartmentFactory(unit=community)
        elif model is PartnerOrganisation:
            f.PartnerFactory(unit=community)
        else:  # Post and User
            f.staff(grid, Role.CASEWORKER)


def _queries(client, model) -> int:
    # Growing units, departments or posts renews who is asking (communities.identity): read first.
    client.get(changelist_url(model))
    with CaptureQueriesContext(connection) as captured:
        assert client.get(changelist_url(model)).status_code == 200
    return len(captured)


@pytest.mark.parametrize("model", [*COMMUNITY_MODELS, User], ids=lambda m: m.__name__)
def test_changelist_runs_the_same_number_of_queries_at_5_and_50_rows(client, world, model):
    client.force_login(world.admins["street"])
    _grow(model, 5, world)
    small = _queries(client, model)
    _grow(model, 45, world)

    assert _queries(client, model) == small
    assert small <= 12
