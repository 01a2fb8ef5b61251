"""One catalogue of case actions serves the case page and the API: the same names, the same
fields, the same data handed to the one ``perform`` of each action."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone

from cases import services
from cases.actions import ACTION_LIST, CATALOGUE
from cases.models import Case, ExtensionRequest, Supervision
from cases.views.actions import ACTION_LIST as PAGE_ACTIONS
from cases.views.actions import PAGE_FORMS
from communities.models import Role, Unit
from governance.api.actions import INPUTS
from governance.api.views import CaseViewSet
from tests.cases.factories import new_case, walk
from tests.factories import staff

STAFF_TRANSITIONS = {name for name, rule in services.TRANSITIONS.items() if rule.reach != "resident"}
PAGE_ONLY_FIELDS = {"progress": {"photos"}}  # the API takes JSON, not files: its data carries photos=[]


def test_page_forms_api_serializers_catalogue_and_transitions_name_the_same_actions():
    assert set(CATALOGUE) == STAFF_TRANSITIONS
    assert set(PAGE_FORMS) == set(CATALOGUE)
    assert set(INPUTS) == set(CATALOGUE)
    assert [a.name for a in PAGE_ACTIONS] == [a.name for a in ACTION_LIST]
    api_paths = {getattr(CaseViewSet, f"do_{name}").url_path for name in CATALOGUE}
    assert api_paths == {name.replace("_", "-") for name in CATALOGUE}


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_the_page_form_and_the_api_serializer_ask_for_the_same_fields(name):
    page = set(PAGE_FORMS[name].form.base_fields) - PAGE_ONLY_FIELDS.get(name, set())
    assert page == set(INPUTS[name]().fields)


@pytest.fixture
def people(street, community, grid):
    return SimpleNamespace(
        dispatcher=staff(street, Role.DISPATCHER), worker=staff(grid, Role.CASEWORKER),
        director=staff(community, Role.DIRECTOR),
    )


def _page_data(name: str, case: Case, user, post: dict) -> dict:
    spec = PAGE_FORMS[name]
    request = SimpleNamespace(user=user, POST={f"{name}-{k}": v for k, v in post.items()}, FILES={})
    form = spec.form(request.POST, request.FILES, prefix=name, **spec.kwargs(request, case))
    assert form.is_valid(), form.errors
    return form.cleaned_data


def _api_data(name: str, case: Case, user, body: dict) -> dict:
    serializer = INPUTS[name](data=body, context={"request": SimpleNamespace(user=user), "case": case})
    assert serializer.is_valid(), serializer.errors
    return dict(serializer.validated_data)


def _kinds(data: dict) -> dict:
    return {key: type(value) for key, value in data.items()}


@pytest.mark.django_db
def test_both_sides_hand_perform_the_pending_extension_and_the_active_supervision_as_objects(people, grid, community):
    case = walk(new_case(place=grid), to="accepted", dispatcher=people.dispatcher, handler=people.worker)
    due = case.resolve_due_at + timedelta(days=5)
    extension = services.request_extension(case=case, by=people.worker, new_due_at=due, reason="等配件")
    page = _page_data("decide_extension", case, people.dispatcher, {"extension": extension.pk, "approve": "yes"})
    api = _api_data("decide_extension", case, people.dispatcher, {"approve": True})
    assert page["extension"] == api["extension"] and isinstance(api["extension"], ExtensionRequest)
    assert _kinds(page) == _kinds(api)

    answer_by = (timezone.now() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    page = _page_data("supervise", case, people.director, {"unit": community.pk,
                                                            "comment": "三天内答复", "due_at": answer_by})
    api = _api_data("supervise", case, people.director, {"comment": "三天内答复", "due_at": answer_by})
    assert page["unit"] == api["unit"] and isinstance(api["unit"], Unit)
    services.supervise(case=case, by=people.director, unit=api["unit"], comment="三天内答复", due_at=api["due_at"])
    supervision = Supervision.objects.get(case=case)
    page = _page_data("lift_supervision", case, people.director, {"supervision": supervision.pk})
    api = _api_data("lift_supervision", case, people.director, {})
    assert page["supervision"] == api["supervision"] == supervision
    assert _kinds(page) == _kinds(api)


@pytest.mark.django_db
def test_the_api_fills_what_the_page_form_always_yields(people, grid, sibling_grid):
    case = new_case(place=grid)
    api = _api_data("dispatch", case, people.dispatcher, {"to_unit": sibling_grid.code})
    assert api["co_units"] == [] and api["to_unit"] == sibling_grid
    assert _api_data("progress", case, people.worker, {"note": "已联系物业"})["photos"] == []
