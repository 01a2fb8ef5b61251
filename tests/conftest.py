
from datetime import datetime

import pytest
import time_machine
from django.db import connection

from communities.models import Role
from tests import factories as f
from tests.migrated_data import replay_data_migrations


def pytest_addoption(parser):
    parser.addoption(
        "--clock", default="", metavar="ISO_DATETIME",
        help="Run every test as if it started at this instant (with its UTC offset, e.g. "
        "2026-12-31T23:59:00+08:00); the clock ticks on from there. See `make calendar-check`.",
    )


def _clock(config) -> datetime | None:
    text = config.getoption("--clock", default="")
    if not text:
        return None
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise pytest.UsageError("--clock needs a UTC offset, e.g. 2026-12-31T23:59:00+08:00")
    # A fixed offset, not a named zone: time-machine would also move the process's local zone to a
    # named one, and the point is the machine's own zone staying as it is (UTC on CI).
    return moment


# The date-sensitive tests (months, deadlines, "today", rates, reminders, retention …): `make calendar-check`
# reruns them under each hard clock (.ci/calendar-check). A test elsewhere can carry @pytest.mark.calendar.
CALENDAR_SENSITIVE = (
    "tests/cases/test_rates.py",
    "tests/cases/test_reminders.py",
    "tests/cases/test_retention.py",
    "tests/cases/test_queues.py",
    "tests/governance/test_dashboards.py",
    "tests/governance/test_dashboards_sections.py",
    "tests/governance/test_dashboards_benchmark.py::test_seeding_creates_an_area_whose_cases_have_their_whole_history",
    "tests/governance/test_hotspots.py",
    "tests/governance/test_themes.py",
    "tests/governance/test_projects.py",
    "tests/governance/test_projects_pages.py",
    "tests/governance/test_visits.py",
    "tests/governance/test_whistles.py",
    "tests/governance/test_proactive_demo.py",
    "tests/volunteers/test_retention.py",
)


def pytest_configure(config):
    config.addinivalue_line("markers", "calendar: date-sensitive; rerun under hard clocks by `make calendar-check`")
    moment = _clock(config)
    if moment is not None:
        config._clock_travel = time_machine.travel(moment, tick=True)
        config._clock_travel.start()  # the session's own fixtures (test database, demo data) too


def pytest_unconfigure(config):
    travel = getattr(config, "_clock_travel", None)
    if travel is not None:
        travel.stop()


def pytest_report_header(config):
    moment = _clock(config)
    return f"clock: every test starts at {moment.isoformat()}" if moment else None


@pytest.fixture(autouse=True)
def _clock_per_test(request):
    """Under --clock each test starts at the same instant (a whole run takes minutes)."""
    moment = _clock(request.config)
    if moment is None:
        yield
        return
    with time_machine.travel(moment, tick=True):
        yield


@pytest.fixture
def still_clock(_clock_per_test):
    """The clock stops where it is now (under --clock: at that instant), for a test whose parts must see the
    same moment (two requests compared, a long load then a check of "this month") even if it runs past midnight."""
    from django.utils import timezone

    with time_machine.travel(timezone.now(), tick=False):
        yield


def pytest_collection_modifyitems(config, items):
    """PostgreSQL-only tests (races on real row locks) skip when the suite runs on SQLite.

    On the PostgreSQL pass they run; if PostgreSQL cannot be reached there, the test
    database cannot be created and they fail (CI never turns that into a skip).
    """
    from django.conf import settings

    calendar = pytest.mark.calendar
    for item in items:
        if item.nodeid.startswith(CALENDAR_SENSITIVE):
            item.add_marker(calendar)
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
def media(settings, tmp_path):
    """Uploads of every test go to its own folder, never to the project's media/."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


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
def dispatcher(street):
    """The street's dispatcher (派单员)."""
    return f.staff(street, Role.DISPATCHER)


@pytest.fixture
def worker(grid):
    """The grid's worker (网格员), who handles the cases dispatched to the grid."""
    return f.staff(grid, Role.GRID_WORKER)


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
