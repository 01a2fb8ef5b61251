"""Browser journeys: Playwright driving the system chromium against live_server.

No browser is ever downloaded: the executable comes from Debian's `chromium` package
(CHROMIUM_PATH overrides). A failing test leaves a full-page screenshot under
test-artifacts/e2e/<test name>-<page>.png for CI to keep, one per open page (the desktop
``page`` and the ``phone_page``), so a journey that uses both keeps both.
"""

import os
import shutil
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)
    if Path(CHROMIUM).exists() or os.environ.get("CI") == "true":
        return
    skip = pytest.mark.skip(reason=f"no chromium at {CHROMIUM} (apt-get install chromium fonts-noto-cjk)")
    for item in items:
        if "e2e" in item.keywords:
            item.add_marker(skip)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture(scope="package")
def browser():
    """Chromium, open for the tests of this package only (package scope, not session).

    While Playwright's sync API is open, an event loop counts as running in this thread.
    That has two effects on Django, and neither may outlive the browser tests:

    - Django refuses ORM calls made by the tests themselves (fixtures, assertions, the flush
      after each live-server test). They are synchronous and safe: allow them
      (DJANGO_ALLOW_ASYNC_UNSAFE), for exactly as long as the browser is open.
    - django.db.connections keeps this thread's connections in asgiref's per-context storage
      instead of the thread-local one, so they are other DatabaseWrapper objects than the
      ones pytest-django set the test database up with. A connection opened there and still
      open when the loop stops can no longer be reached: nothing closes it, and at the end
      of the session DROP DATABASE fails with "being accessed by other users". Close them
      before the loop stops.
    """
    from django.db import connections
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            try:
                yield browser
            finally:
                connections.close_all()  # the ones opened while the loop ran (see above)
                browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def _is_violation(message) -> bool:
    return message.type == "error" and "Content Security Policy" in message.text


def _page(browser, request, name, **context_args):
    """A page whose test fails on any Content-Security-Policy violation or uncaught script error
    the browser reports (the portal's pages must work under the strict policy)."""
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", **context_args)
    context.set_default_timeout(10_000)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda message: problems.append(f"{page.url}: {message.text}") if _is_violation(message) else None)
    page.on("pageerror", lambda error: problems.append(f"{page.url}: uncaught {error}"))
    page.csp_problems = problems
    yield page
    failed = getattr(request.node, "rep_call", None)
    if (failed is not None and failed.failed) or problems:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}-{name}.png"), full_page=True)
    context.close()
    if problems and not (failed is not None and failed.failed):
        pytest.fail("The browser reported:\n" + "\n".join(problems), pytrace=False)


@pytest.fixture
def page(browser, request):
    """A desktop browser page (a community worker's screen)."""
    yield from _page(browser, request, "page", viewport={"width": 1366, "height": 900})


@pytest.fixture
def phone_page(browser, request):
    """A phone-sized page (a resident scanning a QR poster)."""
    yield from _page(
        browser,
        request,
        "phone_page",
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        user_agent="Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148",
    )
