"""Every action written on a case's timeline has a label, registered by the app that writes it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from cases import rates, services, timeline
from communities.models import Role
from governance.models import Theme
from governance.themes import services as theme_services
from tests.cases.factories import CategoryFactory, new_case
from tests.factories import staff

APPS = ("communities", "cases", "volunteers", "governance")
WRITERS = {"record", "TimelineEvent"}  # every way a timeline line is written


def _strings(node: ast.AST, assigned: dict[str, list[ast.AST]]) -> set[str] | None:
    """The strings an ``action=`` argument can be (None if the test cannot tell)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        body, orelse = _strings(node.body, assigned), _strings(node.orelse, assigned)
        return None if body is None or orelse is None else body | orelse
    if isinstance(node, ast.Name) and node.id in assigned:
        found = [_strings(value, assigned) for value in assigned[node.id]]
        return None if None in found else set().union(*found)
    return None


def written_actions() -> tuple[set[str], list[str]]:
    """Every action the apps' code writes, and the calls whose action could not be read."""
    actions, unreadable = set(), []
    root = Path(settings.BASE_DIR)
    for app in APPS:
        for path in (root / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            assigned: dict[str, list[ast.AST]] = {}
            for node in ast.walk(tree):
                if isinstance(node, ast.Assign):
                    for target in node.targets:
                        if isinstance(target, ast.Name):
                            assigned.setdefault(target.id, []).append(node.value)
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call):
                    continue
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if name not in WRITERS:
                    continue
                for keyword in node.keywords:
                    if keyword.arg == "action":
                        found = _strings(keyword.value, assigned)
                        if found is None:
                            unreadable.append(f"{path.relative_to(root)}:{node.lineno}")
                        else:
                            actions |= found
    return actions, unreadable


def test_every_action_written_anywhere_has_a_label():
    actions, unreadable = written_actions()

    assert not unreadable, f"cannot tell which action these write (use a literal): {unreadable}"
    assert {"theme_linked", "project_linked", "raised_from_visit", "escalated", "extension_refused"} <= actions
    missing = actions - set(timeline.registered())
    assert not missing, f"timeline actions without a label: {sorted(missing)}"
    assert all(str(timeline.label(action)) != action for action in actions)


@pytest.mark.django_db
def test_an_action_without_a_label_is_refused(grid):
    case = new_case(place=grid)
    with pytest.raises(ImproperlyConfigured):
        services.record(case, action="something_new")


@pytest.mark.django_db
def test_the_case_page_labels_a_link_to_a_theme(client, street, grid):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    category = CategoryFactory(name="电动自行车充电")
    director = staff(street, Role.DIRECTOR)
    theme = theme_services.adopt_theme(unit=street, month=rates.current_month(),
                                       title="电动自行车充电难", category=category, source=Theme.Source.HOTSPOT,
                                       by=director)
    case = new_case(place=grid, category=CategoryFactory(name="楼道堆物"))
    theme_services.link_case(theme=theme, case=case, by=director)
    client.force_login(director)

    html = client.get(case.get_absolute_url()).content.decode()

    assert "Counted towards a monthly theme" in html and "theme_linked" not in html.replace("event-theme_linked", "")
