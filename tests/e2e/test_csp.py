"""The strict Content-Security-Policy in a real browser: pages with scripts (the API docs' Swagger UI,
the dashboards' charts, the admin's widgets) run without a single violation (the page fixture fails
the test on any reported violation or uncaught error)."""

from django.contrib.auth import get_user_model

from communities.models import Role
from tests import factories as f


def login(page, live_server, user):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill(user.username)
    page.get_by_label("密码").fill("pw-for-tests-123")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server.url}/workspace/")


def test_swagger_ui_runs_under_the_policy(live_server, page, community):
    login(page, live_server, f.staff(community, Role.CASEWORKER))
    page.goto(f"{live_server.url}/api/docs/")
    page.locator(".swagger-ui .info .title").wait_for()
    page.locator(".opblock").first.wait_for()
    assert page.csp_problems == []


def test_the_admin_and_a_dashboard_run_under_the_policy(live_server, page, community):
    root = get_user_model().objects.create_superuser("root-csp", "", "pw-for-tests-123")
    login(page, live_server, root)
    page.goto(f"{live_server.url}/admin/communities/unit/add/")
    page.locator("#unit_form").wait_for()
    page.goto(f"{live_server.url}/admin/auth/user/")
    page.locator("#changelist").wait_for()
    page.goto(f"{live_server.url}/dashboards/{community.code}/")
    page.locator("main").wait_for()
    page.wait_for_load_state("networkidle")
    assert page.csp_problems == []
