"""What a page view does with a posted form: one service call, then a message and a redirect.

``submit`` replaces the try / service / except / message / redirect block the views of cases,
volunteers and governance would each repeat. It lives in cases because it catches
``IllegalTransition`` (``cases.refusals``), which communities may not import.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from communities.pages import add_service_errors

from .refusals import IllegalTransition


def submit(
    request: HttpRequest,
    form: forms.Form | None,
    call: Callable[[], Any],
    success: str | Callable[[Any], str],
    to: Any,
    *,
    refused_to: Any = None,
    refusal_field: str | None = None,
    errors_on_fields: bool = True,
) -> HttpResponse | None:
    """Make ``call`` (the one service call) if ``form`` is valid; say how it went.

    Success: ``success`` as a message (a callable gets the call's result; empty: no message) and a
    redirect to ``to`` (anything ``redirect`` takes, or a callable of the result returning that or
    a ready response). On failure the view re-renders its page with ``form`` (None is returned):
    a ValidationError goes on the form's fields (``errors_on_fields=False``: on the form, when the
    service's field names are not the form's); a refusal (IllegalTransition) goes on the form, on
    ``refusal_field`` if given, or, with ``refused_to``, becomes an error message and a redirect
    there. Without a form (a button), both failures are messages and the redirect is the same
    (``refused_to`` if given, else ``to``).
    """
    if form is not None and not form.is_valid():
        return None
    try:
        result = call()
    except IllegalTransition as error:
        if form is None or refused_to is not None:
            messages.error(request, error.message)
            return redirect(refused_to if refused_to is not None else to)
        form.add_error(refusal_field, error.message)
        return None
    except ValidationError as error:
        if form is None:
            messages.error(request, " ".join(error.messages))
            return redirect(refused_to if refused_to is not None else to)
        if errors_on_fields:
            add_service_errors(form, error)
        else:
            form.add_error(None, error.messages)
        return None
    text = success(result) if callable(success) else success
    if text:
        messages.success(request, text)
    target = to(result) if callable(to) else to
    return target if isinstance(target, HttpResponse) else redirect(target)
