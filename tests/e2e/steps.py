"""Steps the browser journeys share: signing in, the case page's actions, the resident's pages,
and reading the tables people look at."""

from __future__ import annotations

import re

from cases.models import Case

PASSWORD = "pw-for-tests-123"


def htmx_settled(page) -> None:
    """Wait until htmx has swapped and settled what it fetched: new controls answer events only then."""
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')"
    )


def log_in(page, base: str, user, *, lands_on: str = "/workspace/") -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{base}{lands_on}")


def act(page, action: str, fill: dict | None = None, *, tick: tuple[str, ...] = ()) -> None:
    """Open an action panel (of a case or a meeting page), fill its fields, tick boxes by
    their label, submit it."""
    form = page.locator(f'form[action$="/{action}/"]')
    details = page.locator(f'details:has(form[action$="/{action}/"])')
    # Right after a click that navigates, the old page may still be there (no such form, so no
    # panel to open would be found): wait for the form first.
    form.wait_for(state="attached")
    if details.count():
        details.locator("summary").click()
    fill_form(form, fill or {})
    for label in tick:
        form.get_by_label(label).check()
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()


def fill_form(form, fill: dict) -> None:
    """Fill fields by selector: a select gets its option chosen, anything else is typed into."""
    for selector, value in fill.items():
        field = form.locator(selector)
        if field.evaluate("el => el.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)


def handle(page, *, summary: str, result: str) -> None:
    """The handler on the case page: accepts, records the call to the resident, resolves."""
    act(page, "accept")
    act(page, "contact", {"#id_contact-summary": summary})
    act(page, "resolve", {"#id_resolve-nature": Case.Nature.REASONABLE, "#id_resolve-result": result})


def rate_on_phone(phone_page, base: str, case: Case, *, phone_last4: str, expect_result: str) -> None:
    """The resident opens the status page with code and phone digits and rates: resolved, satisfied."""
    phone_page.goto(f"{base}/track/")
    phone_page.fill("#id_code", case.code)
    phone_page.fill("#id_phone_last4", phone_last4)
    phone_page.click("main form button[type=submit]")
    phone_page.locator("#rating").wait_for()
    assert expect_result in phone_page.content()
    phone_page.check('#rating input[name="resolved"][value="yes"]')
    phone_page.check('#rating input[name="satisfaction"][value="satisfied"]')
    phone_page.click("#rating button[type=submit]")
    phone_page.wait_for_load_state()


def text_of(locator) -> str:
    """A cell's or tile's visible text with its whitespace folded."""
    return re.sub(r"\s+", " ", locator.inner_text()).strip()


def table_rows(table) -> list[list[str]]:
    """The body rows of a table as the reader sees them, cell by cell (th and td)."""
    rows = []
    for row in table.locator("tbody tr").all():
        rows.append([text_of(cell) for cell in row.locator("th, td").all()])
    return rows
