
import pytest
from django.db import connection

from tests import factories as f
from tests.migrated_data import replay_data_migrations


def pytest_collection_modifyitems(config, items):
    """PostgreSQL-only tests (races on real row locks) skip when the suite runs on SQLite.

    On the PostgreSQL pass they run; if PostgreSQL cannot be reached there, the test
    database cannot be created and they fail (CI never turns that into a skip).
    """
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


def _is_transactional(item) -> bool:
    marker = item.get_closest_marker("django_db")
    if marker is not None and marker.kwargs.get("transaction"):
        return True
    return bool({"transactional_db", "live_server"} & set(getattr(item, "fixturenames", ())))


@pytest.fixture(autouse=True)
def _migrated_data_in_transactional_tests(request):
    if _is_transactional(request.node):
        request.getfixturevalue("transactional_db")
        replay_data_migrations()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Counters in the local cache (rate limits, failed credentials per address) would outlive a
    test's rolled-back rows: no test inherits another's."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _fresh_reference_lists(_fresh_cache):
    """The form's shared lists (cases.reference) outlive a test's rolled-back rows in the local cache."""
    from cases import reference

    reference.new_generation()


@pytest.fixture
def area(db):
    return f.AreaFactory(name="燕山工委", code="yanshan")


@pytest.fixture
def street(area):
    return f.StreetFactory(parent=area, name="星城街道", code="xingcheng")


@pytest.fixture
def sibling_street(area):
    return f.StreetFactory(parent=area, name="向阳街道", code="xiangyang")


@pytest.fixture
def community(street):
    return f.CommunityFactory(parent=street, name="星城第三社区", code="xc-3")


@pytest.fixture
def sibling_community(street):
    return f.CommunityFactory(parent=street, name="星城第七社区", code="xc-7")


@pytest.fixture
def grid(community):
    return f.GridFactory(parent=community, name="星城第三社区第一网格", code="xc-3-g1")


@pytest.fixture
def sibling_grid(community):
    return f.GridFactory(parent=community, name="星城第三社区第二网格", code="xc-3-g2")


@pytest.fixture
def building(grid):
    return f.BuildingFactory(unit=grid, name="星城二里41号楼")


@pytest.fixture
def report_form_data(street, community, building):
    """A resident's valid POST of /report/: the broken stair light of 41号楼, under a housing category."""
    from tests.cases.factories import CategoryFactory

    parent = CategoryFactory(code="t-housing", name="住房", public_name="房子和楼道")
    category = CategoryFactory(code="t-stair", name="楼道设施", public_name="楼道灯不亮、单元门坏了", parent=parent)
    return {
        "category": str(category.pk),
        "description": "41号楼5单元楼道灯坏了一周，晚上看不见台阶",
        "street": str(street.pk),
        "community": str(community.pk),
        "building": str(building.pk),
        "address": "",
        "resident_name": "杨阿姨",
        "resident_phone": "138 1234 5678",
        "consent": "on",
        "website": "",
    }


@pytest.fixture
def sibling_building(sibling_community):
    grid = f.GridFactory(parent=sibling_community)
    return f.BuildingFactory(unit=grid, name="星城七里2号楼")


@pytest.fixture
def is_postgres():
    return connection.vendor == "postgresql"
