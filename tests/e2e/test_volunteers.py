"""The volunteer corps in a real browser: a resident registers from the front page on a phone,
the community approves and opens an activity, the volunteer signs up on their own page, staff
check them in and out, and the hours appear where both of them look."""

import re
from datetime import timedelta

from django.utils import timezone

from communities.models import Role
from tests import factories as f
from volunteers.models import HoursEntry, SignUp, Skill, Volunteer

from .steps import fill_form, htmx_settled, log_in, text_of


def counts(page) -> dict[str, str]:
    """A ``dl.counts`` block as label → figure."""
    block = page.locator("dl.counts").first
    return {text_of(row.locator("dt")): text_of(row.locator("dd")) for row in block.locator("div").all()}


def test_resident_registers_signs_up_and_is_checked_in_and_out_by_staff(
    live_server, page, phone_page, street, community, grid, building
):
    base = live_server.url
    director = f.staff(community, Role.DIRECTOR)
    skill = Skill.objects.order_by("sort_order", "code").first()

    # A resident finds the registration form on the front page and fills it in on a phone;
    # the community and building lists follow the street and community chosen (htmx).
    phone_page.goto(f"{base}/")
    phone_page.get_by_role("button", name="报名成为志愿者").click()
    phone_page.wait_for_url(f"{base}/volunteers/join/")
    phone_page.fill("#id_name", "杜维臣")
    phone_page.fill("#id_phone", "13812345678")
    phone_page.select_option("#id_street", str(street.pk))
    # Until a street is chosen the communities of every street are offered, grouped by street.
    phone_page.locator("#id_community optgroup").first.wait_for(state="detached")
    htmx_settled(phone_page)
    phone_page.select_option("#id_community", str(community.pk))
    phone_page.locator(f'#id_building option[value="{building.pk}"]').wait_for(state="attached")
    phone_page.select_option("#id_building", str(building.pk))
    assert not phone_page.get_by_text("显示该社区的楼栋").is_visible()  # the no-JS fallback stays hidden
    phone_page.get_by_label(skill.name).check()
    phone_page.fill("#id_availability", "工作日上午")
    phone_page.check("#id_consent")
    phone_page.get_by_role("button", name="报名", exact=True).click()
    phone_page.wait_for_url(f"{base}/volunteers/join/done/")
    assert "杜维臣" in text_of(phone_page.locator("h1"))
    volunteer = Volunteer.objects.get()
    assert (volunteer.status, volunteer.unit, volunteer.building) == (Volunteer.Status.APPLIED, grid, building)

    # The community's director approves the application and links the login IT gave him.
    login = f.UserFactory(username="duweichen")
    log_in(page, base, director)
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="志愿者").click()
    page.get_by_role("link", name="报名申请").click()
    application = page.locator("article.application").filter(has_text="杜维臣")
    application.get_by_role("button", name="同意").click()
    page.wait_for_load_state()
    volunteer.refresh_from_db()
    assert volunteer.status == Volunteer.Status.ACTIVE
    page.goto(f"{base}{volunteer.get_absolute_url()}")
    page.locator("summary", has_text="登录账号").click()
    login_form = page.locator(f'form[action$="/{volunteer.pk}/login/"]')
    login_form.get_by_label("登录账号（用户名）").fill(login.username)
    login_form.get_by_role("button").click()
    page.wait_for_load_state()
    volunteer.refresh_from_db()
    assert volunteer.user == login

    # …and opens a patrol for this evening from the activity calendar.
    page.get_by_role("link", name="活动", exact=True).click()
    page.get_by_role("link", name="新建活动").click()
    starts = timezone.localtime() + timedelta(minutes=30)
    form = page.locator("main form")
    fill_form(form, {
        "#id_title": "星城二里夜间巡逻", "#id_kind": "patrol", "#id_unit": str(community.pk),
        "#id_place": "41号楼前小广场", "#id_capacity": "5",
        "#id_starts_at": starts.strftime("%Y-%m-%dT%H:%M"),
        "#id_ends_at": (starts + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
    })
    form.get_by_role("button").click()
    page.wait_for_url(re.compile(r"/volunteers/activities/\d+/$"))
    activity_url = page.url

    # The volunteer signs in on the phone and signs up on his own page.
    log_in(phone_page, base, login)
    phone_page.get_by_role("button", name="打开我的志愿服务页面").click()
    card = phone_page.locator("article.activity-card").filter(has_text="星城二里夜间巡逻")
    card.get_by_role("button").click()
    phone_page.wait_for_load_state()
    assert "星城二里夜间巡逻" in text_of(phone_page.locator("section[aria-labelledby=mine-head]"))
    signup = SignUp.objects.get()
    assert (signup.volunteer, signup.status) == (volunteer, SignUp.Status.SIGNED_UP)

    # At the patrol, staff check him in on the activity page…
    page.goto(activity_url)
    row = page.locator("table.signups tbody tr").filter(has_text="杜维臣")
    row.get_by_role("button", name="签到").click()
    page.wait_for_load_state()
    signup.refresh_from_db()
    assert signup.status == SignUp.Status.CHECKED_IN
    # …and out two hours later (the clock is moved on by putting the check-in back).
    SignUp.objects.filter(pk=signup.pk).update(checked_in_at=signup.checked_in_at - timedelta(hours=2))
    page.reload()
    row.get_by_role("button", name="签退").click()
    page.wait_for_load_state()
    signup.refresh_from_db()
    assert signup.status == SignUp.Status.COMPLETED
    assert HoursEntry.objects.get(signup=signup).minutes == 120

    # The hours appear on the volunteer's own page and on the community's roster.
    phone_page.reload()
    mine = counts(phone_page)
    assert (mine["我的服务人次"], mine["我的服务时长"]) == ("1", "2")
    page.get_by_role("link", name="志愿者名册").click()
    roster_row = page.locator("table tbody tr").filter(has_text="杜维臣")
    assert "2" in text_of(roster_row)
