"""The main journey in a real browser: a resident reports from a phone, the street
dispatches, the grid worker handles it, and the resident rates the result."""

import re

import pytest
from PIL import Image

from cases.models import Case
from communities.models import Role
from tests import factories as f
from tests.cases.factories import CategoryFactory

from .steps import act, handle, log_in, rate_on_phone


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "lamp.jpg"
    Image.new("RGB", (640, 480), (200, 180, 40)).save(path, "JPEG")
    return path


def test_resident_reports_worker_handles_resident_rates(live_server, page, phone_page, street, community, grid, building, photo):
    base = live_server.url
    category = CategoryFactory(code="housing-stairwell-e2e", public_name="楼道灯不亮、单元门坏了")
    dispatcher = f.staff(street, Role.DISPATCHER)
    grid_worker = f.staff(grid, Role.GRID_WORKER)

    # The resident scans the grid's QR poster: the place is already filled in.
    phone_page.goto(f"{base}/report/?unit={grid.code}")
    phone_page.select_option("#id_category", str(category.pk))
    phone_page.fill("#id_description", "41号楼3单元二楼到五楼的楼道灯都不亮了，老人晚上看不见。")
    phone_page.select_option("#id_building", str(building.pk))
    phone_page.set_input_files("#id_photos", str(photo))
    phone_page.fill("#id_resident_name", "赵大爷")
    phone_page.fill("#id_resident_phone", "13511110413")
    phone_page.check("#id_consent")
    phone_page.click("main form button[type=submit]")
    phone_page.wait_for_url(re.compile(r"/report/done/"))
    case = Case.objects.get()
    assert case.code in phone_page.content()
    assert case.attachments.count() == 1

    # The street's dispatcher sees it in the queue and routes it (the grid is suggested).
    log_in(page, base, dispatcher)
    page.goto(f"{base}/cases/?queue=to_dispatch")
    page.click(f'a[href="/cases/{case.code}/"]')
    act(page, "dispatch")
    case.refresh_from_db()
    assert (case.status, case.unit) == (Case.Status.DISPATCHED, grid)

    # The grid worker accepts, calls the resident, and resolves.
    log_in(page, base, grid_worker)
    page.goto(f"{base}/cases/{case.code}/")
    handle(page, summary="已电话联系赵大爷，明天上午换灯。", result="已更换3单元全部楼道灯。")
    case.refresh_from_db()
    assert case.status == Case.Status.RESOLVED

    # The resident follows the code and rates the result.
    rate_on_phone(phone_page, base, case, phone_last4="0413", expect_result="已更换3单元全部楼道灯")

    case.refresh_from_db()
    assert (case.status, case.rated_resolved, case.satisfaction) == (Case.Status.CLOSED, True, "satisfied")
    actions = list(case.events.values_list("action", flat=True))
    assert actions[0] == "submitted" and "rated" in " ".join(actions)
