import pytest
from django.core.exceptions import ValidationError

from communities import services
from communities.models import Unit
from tests import factories as f


def test_new_units_get_paths_under_their_parents(area, street, community, grid):
    assert area.path == f"/{area.pk}/"
    assert street.path == f"/{area.pk}/{street.pk}/"
    assert grid.path == f"{community.path}{grid.pk}/"
    assert [u.depth for u in (area, street, community, grid)] == [0, 1, 2, 3]


def test_moving_a_community_rewrites_the_paths_of_everything_under_it(
    area, street, sibling_street, community, grid
):
    deeper = f.GridFactory(parent=community)

    services.move_unit(unit=community, new_parent=sibling_street)

    community.refresh_from_db()
    assert community.path == f"{sibling_street.path}{community.pk}/"
    for child in (grid, deeper):
        child.refresh_from_db()
        assert child.path == f"{community.path}{child.pk}/"
        assert child.depth == 3
    assert not Unit.objects.filter(path__startswith=street.path).exclude(pk=street.pk).exists()
    assert set(sibling_street.descendants()) == {sibling_street, community, grid, deeper}


def test_move_does_not_touch_units_whose_path_merely_shares_digits(area):
    # "/1/2/" must not match "/1/23/": the separator closes every segment.
    streets = [f.StreetFactory(parent=area) for _ in range(12)]
    community = f.CommunityFactory(parent=streets[1])
    before = dict(Unit.objects.exclude(pk=community.pk).values_list("pk", "path"))

    services.move_unit(unit=community, new_parent=streets[0])

    assert dict(Unit.objects.exclude(pk=community.pk).values_list("pk", "path")) == before
    community.refresh_from_db()
    assert community.path == f"{streets[0].path}{community.pk}/"


def test_a_community_cannot_be_placed_directly_under_the_area(area, community):
    with pytest.raises(ValidationError) as error:
        services.move_unit(unit=community, new_parent=area)
    assert "parent" in error.value.message_dict


def test_nothing_can_be_placed_under_a_grid(grid):
    orphan = Unit(name="x", code="x", level=Unit.Level.GRID, parent=grid)
    with pytest.raises(ValidationError):
        orphan.full_clean()


def test_only_the_top_tier_has_no_parent(db):
    with pytest.raises(ValidationError):
        Unit(name="孤立社区", code="lonely", level=Unit.Level.COMMUNITY).full_clean()
