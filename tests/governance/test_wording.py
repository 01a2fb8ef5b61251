"""Words that said something else: "Change" (变化, not 修改) on hotspots and themes, the notice's
"By" column (a date, not a person), the public form's photo help in English."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse

from cases import rates
from communities.models import Role
from governance.coordination import services as coordination_services
from governance.themes import services as theme_services
from tests.cases.factories import CategoryFactory
from tests.factories import staff
from tests.governance.proactive_factories import cases_in
from tests.governance.test_meetings import held, item
from tests.governance.test_projects import new_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def chinese(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"


def _header_cells(html: str) -> str:
    return html[html.index("<thead"):html.index("</thead>")]


@time_machine.travel(datetime(2026, 11, 20, 12, 0, tzinfo=rates.RATE_TZ), tick=False)
def test_the_change_in_numbers_reads_bianhua_on_hotspots_and_themes(client, chinese, street, community, grid):
    charging = CategoryFactory(name="电动自行车充电")
    for month, count in {date(2026, 7, 1): 3, date(2026, 8, 1): 5, date(2026, 9, 1): 2, date(2026, 10, 1): 4}.items():
        cases_in(month, count, place=grid, category=charging, handled_by=community)
    director = staff(street, Role.DIRECTOR)
    client.force_login(director)

    hotspots = client.get(reverse("proactive:hotspots_unit", kwargs={"code": street.code}), {"month": "2026-10"})
    theme = theme_services.adopt_theme(unit=street, month=date(2026, 8, 1), title="电动自行车充电难",
                                       category=charging, by=director)
    theme_page = client.get(reverse("proactive:theme", kwargs={"pk": theme.pk})).content.decode()

    assert "变化" in _header_cells(hotspots.content.decode()) and "修改" not in _header_cells(hotspots.content.decode())
    assert "变化" in theme_page and "修改" not in theme_page


def test_the_edit_link_of_a_project_still_reads_xiugai(client, chinese, street):
    director = staff(street, Role.DIRECTOR)
    project = new_project(director, street)
    client.force_login(director)

    html = client.get(project.get_absolute_url()).content.decode()

    assert "修改" in html


def test_the_notice_deadline_column_is_a_deadline_not_a_person(client, chinese, community, street):
    director = staff(community, Role.DIRECTOR)
    meeting = held(director, community)
    item(director, meeting, text="物业清理消防通道")
    coordination_services.publish_notice(meeting=meeting, by=director, summary="各方同意加强巡查。")

    html = client.get(reverse("coordination:notice", kwargs={"pk": meeting.pk})).content.decode()

    assert "完成时限" in _header_cells(html) and "经办人" not in html


def test_the_public_form_photo_help_follows_the_language(client, street):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = client.get(reverse("cases_public:report")).content.decode()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    chinese = client.get(reverse("cases_public:report")).content.decode()

    assert "JPEG or PNG photos" in english and "JPEG或PNG格式照片" not in english
    assert "JPEG或PNG格式照片" in chinese
