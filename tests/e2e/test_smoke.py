from tests import factories as f


def test_a_worker_logs_in_in_chinese_and_lands_on_the_workspace(live_server, page, community):
    worker = f.staff(community, "caseworker")
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill(worker.username)
    page.get_by_label("密码").fill("pw-for-tests-123")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server.url}/workspace/")
    assert community.name in page.content()
