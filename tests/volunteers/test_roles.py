"""What each role may do with the corps, as granted by the migration."""

import pytest

from communities.models import Role
from tests import factories as f

pytestmark = pytest.mark.django_db

MAY = {
    Role.DIRECTOR: {"view_volunteer", "approve_volunteer", "import_volunteers", "correct_hours", "assign_building",
                    "record_hours", "assign_task", "answer_suggestion", "add_team"},
    Role.CASEWORKER: {"view_volunteer", "add_volunteer", "approve_volunteer", "record_hours", "assign_task"},
    Role.GRID_WORKER: {"view_volunteer", "record_hours", "assign_task", "add_activity"},
    Role.DISPATCHER: {"view_volunteer", "assign_task", "answer_suggestion"},
    Role.SUPERVISOR: {"view_volunteer", "view_hoursentry"},
}
MAY_NOT = {
    Role.CASEWORKER: {"correct_hours", "import_volunteers", "assign_building"},
    Role.GRID_WORKER: {"approve_volunteer", "correct_hours", "import_volunteers"},
    Role.DISPATCHER: {"record_hours", "approve_volunteer"},
    Role.SUPERVISOR: {"add_volunteer", "record_hours", "assign_task", "approve_volunteer", "answer_suggestion"},
    Role.DEPARTMENT_LIAISON: {"view_volunteer", "assign_task"},
    Role.ADMINISTRATOR: {"delete_volunteer", "delete_hoursentry", "change_hoursentry", "add_hoursentry"},
}


@pytest.mark.parametrize("role", list(MAY))
def test_each_role_may_do_its_part(role, area, street, community, grid):
    unit = {Role.GRID_WORKER: grid, Role.CASEWORKER: community}.get(role, community)
    user = f.staff(unit, role)
    assert all(user.has_perm(f"volunteers.{codename}") for codename in MAY[role])


@pytest.mark.parametrize("role", list(MAY_NOT))
def test_each_role_may_not_do_the_rest(role, area, community, grid):
    unit = {Role.GRID_WORKER: grid, Role.DEPARTMENT_LIAISON: area}.get(role, community)
    user = f.staff(unit, role)
    assert not any(user.has_perm(f"volunteers.{codename}") for codename in MAY_NOT[role])
