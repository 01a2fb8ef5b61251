"""cases.pages.submit: the one service call of a page view, then a message and a redirect, or the
form again with the service's errors (what was typed kept)."""

from __future__ import annotations

from django import forms
from django.contrib.messages import ERROR, SUCCESS
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.test import RequestFactory

from cases.pages import submit
from cases.refusals import IllegalTransition


class NameForm(forms.Form):
    name = forms.CharField()
    seats = forms.IntegerField()


def _post(data: dict | None = None):
    request = RequestFactory().post("/somewhere/", data or {"name": "Li Hua", "seats": "3"})
    request._messages = CookieStorage(request)
    return request


def _messages(request) -> list[tuple[int, str]]:
    return [(message.level, str(message)) for message in request._messages]


def _raise(error: Exception):
    def call():
        raise error
    return call


def test_success_says_the_message_and_redirects_both_from_the_result():
    request = _post()
    form = NameForm(request.POST)
    calls = []

    def call():
        calls.append(form.cleaned_data["name"])
        return "/done/7/"

    response = submit(request, form, call, lambda url: f"Saved {form.cleaned_data['seats']}.", lambda url: url)
    assert calls == ["Li Hua"]
    assert (response.status_code, response["Location"]) == (302, "/done/7/")
    assert _messages(request) == [(SUCCESS, "Saved 3.")]


def test_an_invalid_form_is_not_sent_to_the_service():
    request = _post({"name": "Li Hua", "seats": "many"})
    form = NameForm(request.POST)
    response = submit(request, form, _raise(AssertionError("called")), "Saved.", "/done/")
    assert response is None
    assert "seats" in form.errors
    assert _messages(request) == []


def test_a_validation_error_goes_on_the_form_fields_and_the_typed_input_stays():
    request = _post()
    form = NameForm(request.POST)
    error = ValidationError({"name": "Already on the roster.", "unknown_field": "Something else."})
    assert submit(request, form, _raise(error), "Saved.", "/done/") is None
    assert form.errors["name"] == ["Already on the roster."]
    assert form.non_field_errors() == ["Something else."]
    assert 'value="Li Hua"' in str(form["name"])
    assert _messages(request) == []


def test_errors_on_fields_false_puts_the_service_errors_on_the_form():
    request = _post()
    form = NameForm(request.POST)
    error = ValidationError({"name": "Not this name."})
    assert submit(request, form, _raise(error), "Saved.", "/done/", errors_on_fields=False) is None
    assert "name" not in form.errors
    assert form.non_field_errors() == ["Not this name."]


def test_a_refusal_is_shown_on_the_form_or_on_the_named_field():
    request = _post()
    form = NameForm(request.POST)
    assert submit(request, form, _raise(IllegalTransition("The activity was cancelled.")), "Saved.", "/done/") is None
    assert form.non_field_errors() == ["The activity was cancelled."]

    form = NameForm(request.POST)
    refusal = _raise(IllegalTransition("This household has voted."))
    assert submit(request, form, refusal, "Saved.", "/done/", refusal_field="name") is None
    assert form.errors["name"] == ["This household has voted."]
    assert _messages(request) == []


def test_a_refusal_with_refused_to_is_a_message_and_a_redirect_there():
    request = _post()
    form = NameForm(request.POST)
    refusal = _raise(IllegalTransition("The task is already done."))
    response = submit(request, form, refusal, "Saved.", lambda result: "/result/", refused_to="/task/4/")
    assert (response.status_code, response["Location"]) == (302, "/task/4/")
    assert _messages(request) == [(ERROR, "The task is already done.")]
    assert not form.errors


def test_without_a_form_both_failures_are_messages_and_the_same_redirect():
    request = _post()
    response = submit(request, None, _raise(IllegalTransition("Not in this team.")), "Left.", "/team/2/")
    assert (response.status_code, response["Location"]) == (302, "/team/2/")
    error = ValidationError(["Too late.", "Ask the organiser."])
    response = submit(request, None, _raise(error), "Left.", "/team/2/")
    assert response["Location"] == "/team/2/"
    assert _messages(request) == [(ERROR, "Not in this team."), (ERROR, "Too late. Ask the organiser.")]


def test_no_message_when_success_is_empty_and_a_ready_response_is_returned():
    request = _post()
    page = HttpResponse("the phone number, once")
    assert submit(request, NameForm(request.POST), lambda: "138", "", lambda phone: page) is page
    assert _messages(request) == []
