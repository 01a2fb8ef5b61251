"""Fixtures for the coordination tests (whistles, meetings, polls). Refusals are read in English."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.utils import translation

from communities.models import Department, PartnerOrganisation, Role
from tests import factories as f
from tests.cases.factories import CaseFactory
from tests.governance.coordination_factories import households


@pytest.fixture(autouse=True)
def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def housing(area):
    return f.DepartmentFactory(unit=area, name="燕山住建委", kind=Department.Kind.HOUSING)


@pytest.fixture
def hr(area):
    return f.DepartmentFactory(unit=area, name="燕山人社局", kind=Department.Kind.HUMAN_RESOURCES)


@pytest.fixture
def property_manager(community):
    return f.PartnerFactory(unit=community, name="星城物业", kind=PartnerOrganisation.Kind.PROPERTY_MANAGER)


@pytest.fixture
def housing_liaison(area, housing):
    return f.staff(area, Role.DEPARTMENT_LIAISON, department=housing)


@pytest.fixture
def hr_liaison(area, hr):
    return f.staff(area, Role.DEPARTMENT_LIAISON, department=hr)


@pytest.fixture
def street_director(street):
    return f.staff(street, Role.DIRECTOR)


@pytest.fixture
def director(community):
    return f.staff(community, Role.DIRECTOR)


@pytest.fixture
def sibling_director(sibling_community):
    return f.staff(sibling_community, Role.DIRECTOR)


@pytest.fixture
def caseworker(community):
    return f.staff(community, Role.CASEWORKER)


@pytest.fixture
def grid_worker(grid):
    return f.staff(grid, Role.GRID_WORKER)


@pytest.fixture
def case(grid, building):
    return CaseFactory(location_unit=grid, building=building, status="dispatched", title="41号楼5单元想加装电梯")


@pytest.fixture
def sibling_case(sibling_community):
    return CaseFactory(location_unit=sibling_community, status="dispatched", title="七里2号楼楼道灯")


@pytest.fixture
def building_41(building):
    """星城二里41号楼: 6 units, 6 floors, 2 households a floor — 72 households of 60 m²."""
    households(building)
    return building
