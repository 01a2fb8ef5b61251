"""民生项目清单: the monthly-update flag, the roll-up of sub-items, moves with clear refusals, on-time rates."""

from __future__ import annotations

from datetime import date, timedelta
from unittest import mock

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from cases.models import TimelineEvent
from communities.models import Role
from governance.models import Project, ProjectEvent, ProjectUpdate
from governance.projects import selectors, services
from governance.projects.services import IllegalTransition
from tests import factories as f

pytestmark = pytest.mark.django_db
S = Project.Status


def new_project(by, unit, *, deadline=None, parent=None, **extra) -> Project:
    extra.setdefault("owner_unit", None if extra.get("owner_user") or extra.get("owner_department") else unit)
    return services.create_project(
        by=by, parent=parent, title=extra.pop("title", "星城二里45号楼顶层漏雨修缮"), unit=unit,
        deadline=deadline or timezone.localdate() + timedelta(days=30), source=extra.pop("source", "survey"),
        **extra,
    )


def at(day: date):
    moment = timezone.make_aware(timezone.datetime.combine(day, timezone.datetime.min.time())) + timedelta(hours=10)
    return mock.patch("django.utils.timezone.now", return_value=moment)


# --------------------------------------------------------------------------- 月更新


def test_an_open_item_without_an_update_this_month_is_flagged(director, community):
    project = new_project(director, community)
    assert Project.objects.filter(selectors.flagged_q()).get() == project

    services.add_update(project=project, by=director, text="入户查看漏点", progress=10)
    assert not Project.objects.filter(selectors.flagged_q()).exists()
    assert selectors.project_list(director, flagged=True).count() == 0


def test_last_months_update_does_not_clear_this_months_flag(director, community):
    project = new_project(director, community)
    last_month = timezone.localdate().replace(day=1) - timedelta(days=3)
    services.add_update(project=project, by=director, text="屋面勘察", progress=20, on=last_month)
    assert list(selectors.project_list(director, flagged=True)) == [project]
    row = selectors.project_rows(Project.objects.filter(pk=project.pk)).get()
    assert row.updated_this_month is False
    # Judged for last month, the same item is up to date.
    assert not Project.objects.filter(selectors.flagged_q(last_month)).exists()


def test_done_and_cancelled_items_are_never_flagged(director, community):
    done = new_project(director, community)
    services.finish(project=done, by=director)
    cancelled = new_project(director, community, title="撤销的事项")
    services.cancel(project=cancelled, by=director, reason="并入区级工程")
    assert not Project.objects.filter(selectors.flagged_q()).exists()


def test_an_update_moves_progress_and_starts_a_planned_item(director, community):
    project = new_project(director, community)
    update = services.add_update(project=project, by=director, text="防水层铺设一半", progress=50)
    project.refresh_from_db()
    assert (project.status, project.progress, update.progress) == (S.IN_PROGRESS, 50, 50)
    assert list(project.events.values_list("action", "from_status", "to_status")) == [
        ("created", "", S.PLANNED), (S.IN_PROGRESS, S.PLANNED, S.IN_PROGRESS),
    ]


@pytest.mark.parametrize("progress", [None, -1, 101])
def test_progress_must_be_0_to_100(director, community, progress):
    project = new_project(director, community)
    with pytest.raises(ValidationError) as error:
        services.add_update(project=project, by=director, text="进展", progress=progress)
    assert "progress" in error.value.error_dict
    assert not ProjectUpdate.objects.exists()


def test_an_update_cannot_be_dated_in_the_future(director, community):
    project = new_project(director, community)
    with pytest.raises(ValidationError):
        services.add_update(project=project, by=director, text="进展", progress=10,
                            on=timezone.localdate() + timedelta(days=1))


# --------------------------------------------------------------------------- sub-items


def test_sub_items_progress_rolls_up_weighted_by_their_weights(director, community, grid):
    parent = new_project(director, community, title="电动自行车充电桩")
    big = new_project(director, grid, parent=parent, title="一里充电桩", weight=30)
    small = new_project(director, grid, parent=parent, title="二里充电桩", weight=10)
    services.add_update(project=big, by=director, text="建成12个", progress=40)
    parent.refresh_from_db()
    assert parent.progress == 30  # (40 × 30 + 0 × 10) / 40
    assert parent.status == S.IN_PROGRESS

    services.finish(project=small, by=director)  # done counts as 100 %
    parent.refresh_from_db()
    assert parent.progress == 55  # (40 × 30 + 100 × 10) / 40


def test_equal_weights_give_the_mean_and_cancelled_parts_are_left_out(director, community):
    parent = new_project(director, community, title="老旧健身器材更换")
    parts = [new_project(director, community, parent=parent, title=f"器材{n}") for n in range(3)]
    services.add_update(project=parts[0], by=director, text="完成", progress=90)
    services.add_update(project=parts[1], by=director, text="一半", progress=30)
    parent.refresh_from_db()
    assert parent.progress == 40  # (90 + 30 + 0) / 3
    services.cancel(project=parts[2], by=director, reason="场地改作他用")
    parent.refresh_from_db()
    assert parent.progress == 60  # (90 + 30) / 2


def test_rolled_up_rounds_down_so_100_means_every_part_is_done():
    assert Project.rolled_up([(99, 1, S.IN_PROGRESS), (100, 1, S.IN_PROGRESS)]) == 99
    assert Project.rolled_up([(0, 1, S.CANCELLED)]) == 0
    assert Project.rolled_up([]) == 0


def test_an_item_with_open_sub_items_cannot_be_finished_or_cancelled(director, community):
    parent = new_project(director, community, title="充电桩")
    part = new_project(director, community, parent=parent, title="一里")
    with pytest.raises(IllegalTransition, match="1 sub-items are still open"):
        services.finish(project=parent, by=director)
    with pytest.raises(IllegalTransition):
        services.cancel(project=parent, by=director, reason="取消")
    services.finish(project=part, by=director)
    services.finish(project=parent, by=director)
    parent.refresh_from_db()
    assert (parent.status, parent.progress) == (S.DONE, 100)


def test_an_update_of_an_item_with_sub_items_keeps_their_progress(director, community):
    parent = new_project(director, community, title="充电桩")
    part = new_project(director, community, parent=parent, title="一里")
    services.add_update(project=part, by=director, text="建成", progress=40)
    update = services.add_update(project=parent, by=director, text="本月总体进展", progress=90)
    parent.refresh_from_db()
    assert update.progress == parent.progress == 40


def test_a_sub_item_cannot_be_split_again_nor_placed_outside_its_item(director, community, grid, sibling_community):
    parent = new_project(director, grid, title="充电桩")
    part = new_project(director, grid, parent=parent, title="一里")
    with pytest.raises(IllegalTransition):
        new_project(director, grid, parent=part, title="再拆")
    with pytest.raises(ValidationError) as error:
        new_project(director, community, parent=parent, title="上一级")
    assert "unit" in error.value.error_dict


# --------------------------------------------------------------------------- moves and refusals


def test_done_and_cancelled_are_final(director, community):
    project = new_project(director, community)
    services.finish(project=project, by=director)
    with pytest.raises(IllegalTransition, match="Done cannot become Cancelled"):
        services.cancel(project=project, by=director, reason="撤销")
    with pytest.raises(IllegalTransition):
        services.add_update(project=project, by=director, text="补记", progress=100)


def test_a_race_lost_on_the_status_is_refused(director, community):
    project = new_project(director, community)
    stale = Project.objects.get(pk=project.pk)
    services.finish(project=project, by=director)
    with mock.patch.object(services, "_lock", return_value=stale):
        with pytest.raises(IllegalTransition, match="Someone else changed this item"):
            services.finish(project=stale, by=director)


def test_cancelling_needs_a_reason(director, community):
    project = new_project(director, community)
    with pytest.raises(ValidationError):
        services.cancel(project=project, by=director, reason="  ")
    project.refresh_from_db()
    assert project.status == S.PLANNED


def test_staff_of_a_sibling_unit_cannot_change_or_add_there(director, sibling_director, community):
    project = new_project(director, community)
    with pytest.raises(IllegalTransition):
        services.finish(project=project, by=sibling_director)
    with pytest.raises(IllegalTransition):
        new_project(sibling_director, community)


def test_an_owner_must_be_named_and_reachable(director, community, sibling_community):
    with pytest.raises(ValidationError) as error:
        new_project(director, community, owner_unit=None)
    assert "owner_user" in error.value.error_dict
    with pytest.raises(ValidationError) as error:
        new_project(director, community, owner_unit=sibling_community)
    assert "owner_unit" in error.value.error_dict


def test_the_owner_person_may_update_but_not_finish(director, community, grid_worker):
    project = new_project(director, community, owner_user=grid_worker)
    services.add_update(project=project, by=grid_worker, text="巡查", progress=20)
    with pytest.raises(IllegalTransition):
        services.finish(project=project, by=grid_worker)


def test_linking_a_case_writes_the_history_and_the_case_timeline(director, community, case, sibling_case):
    project = new_project(director, community)
    services.link(project=project, by=director, case=case)
    assert list(project.cases.all()) == [case]
    assert TimelineEvent.objects.filter(case=case, action="project_linked").exists()
    assert project.events.filter(action="linked", note=case.code).exists()
    with pytest.raises(ValidationError):
        services.link(project=project, by=director, case=sibling_case)
    services.unlink(project=project, by=director, case=case)
    assert not project.cases.exists()


def test_only_top_level_items_are_published_and_by_those_allowed(director, caseworker, community):
    project = new_project(director, community)
    part = new_project(director, community, parent=project, title="一里")
    with pytest.raises(IllegalTransition):
        services.publish(project=project, by=caseworker)
    with pytest.raises(IllegalTransition):
        services.publish(project=part, by=director)
    services.publish(project=project, by=director)
    assert Project.objects.get(pk=project.pk).is_published
    assert ProjectEvent.objects.filter(project=project, action="published").count() == 1


# --------------------------------------------------------------------------- on time


def _finished(by, unit, *, deadline: date, done: date, title="事项") -> Project:
    with at(deadline - timedelta(days=40)):
        project = new_project(by, unit, deadline=deadline, title=title)
    with at(done):
        services.finish(project=project, by=by)
    return project


def test_on_time_rate_per_unit_and_year(street_director, street, community, sibling_community, grid):
    today = date(2026, 11, 20)
    _finished(street_director, community, deadline=date(2026, 3, 31), done=date(2026, 3, 30), title="准时1")
    _finished(street_director, grid, deadline=date(2026, 6, 30), done=date(2026, 6, 30), title="准时2")
    _finished(street_director, sibling_community, deadline=date(2026, 5, 31), done=date(2026, 6, 2), title="逾期")
    with at(date(2026, 1, 5)):
        overdue = new_project(street_director, community, deadline=date(2026, 9, 30), title="未完成已过期")
        new_project(street_director, community, deadline=date(2026, 12, 31), title="未到期")
        cancelled = new_project(street_director, community, deadline=date(2026, 4, 1), title="取消")
        services.cancel(project=cancelled, by=street_director, reason="并入")
        parent = new_project(street_director, community, deadline=date(2026, 12, 1), title="有分项")
        new_project(street_director, community, deadline=date(2026, 7, 1), parent=parent, title="分项不计")
    _finished(street_director, community, deadline=date(2025, 6, 1), done=date(2025, 5, 1), title="去年")

    figures = selectors.on_time_rate(street, 2026, today=today)
    assert (figures.due, figures.done_on_time, figures.done_late, figures.open_overdue, figures.pending) == (
        6, 2, 1, 1, 2)
    assert str(figures.rate) == "0.5000"  # 2 on time of 4 with a verdict (3 done + 1 overdue)

    by_child = {row.unit.pk: row for row in selectors.on_time_by_child(street, 2026, today=today)}
    assert by_child[street.pk].due == 6
    assert (by_child[community.pk].done_on_time, by_child[community.pk].open_overdue) == (2, 1)
    assert (by_child[sibling_community.pk].done_late, str(by_child[sibling_community.pk].rate)) == (1, "0.0000")
    assert str(selectors.on_time_rate(street, 2025, today=today).rate) == "1.0000"
    assert overdue.is_late is True


def test_on_time_rate_runs_one_query(street, community, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert selectors.on_time_rate(street, 2026).rate is None


# An item due in 30 days counts in this year's on-time figures only when its deadline falls in this
# year: a fixed mid-year day keeps the test true in December too.
@time_machine.travel(date(2026, 6, 10), tick=False)
def test_dashboard_summary(director, community):
    today = timezone.localdate()
    flagged = new_project(director, community, title="未更新")
    updated = new_project(director, community, title="已更新")
    services.add_update(project=updated, by=director, text="进展", progress=30)
    done = new_project(director, community, title="完成")
    services.finish(project=done, by=director)
    summary = selectors.dashboard_summary(community, today)
    assert (summary.open, summary.flagged, summary.done_in_month, summary.overdue) == (2, 1, 1, 0)
    assert summary.year.done_on_time == 1
    assert flagged.pk != updated.pk


def test_a_moved_unit_takes_its_items_along(director, community, street, sibling_street):
    project = new_project(director, community)
    community.parent = sibling_street
    community.save()
    project.refresh_from_db()
    assert project.unit_path == community.path


def test_roles_may_what_the_migration_grants(community):
    caseworker = f.staff(community, Role.CASEWORKER)
    supervisor = f.staff(community, Role.SUPERVISOR)
    director = f.staff(community, Role.DIRECTOR)
    assert caseworker.has_perm("governance.add_project") and not caseworker.has_perm("governance.publish_project")
    assert supervisor.has_perm("governance.view_project") and not supervisor.has_perm("governance.change_project")
    assert director.has_perm("governance.publish_project")
