"""Every API error is JSON: ``{"detail": message, "code": code, "errors": {field: [messages]}}``.

``errors`` is present for invalid input only. A transition the rules refuse
(``cases.services.IllegalTransition``) is 409 Conflict with the rule's reason, except
when the refusal is about where the user sits in the tree, which is 403; a service's
``ValidationError`` is 400 with its field errors, like a form's.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.views import exception_handler as drf_exception_handler

from cases.refusals import IllegalTransition
from cases.services.rules import REACH_REFUSALS

INVALID = _("The request has invalid fields; see errors.")
NON_FIELD = "non_field_errors"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("The case cannot do that in its current state.")
    default_code = "illegal_transition"


def from_service_error(error: DjangoValidationError) -> exceptions.ValidationError:
    """A service's ValidationError as a DRF one, keyed by the same field names."""
    if hasattr(error, "error_dict"):
        return exceptions.ValidationError(
            {name: [str(m) for m in DjangoValidationError(errors).messages] for name, errors in error.error_dict.items()}
        )
    return exceptions.ValidationError({NON_FIELD: [str(m) for m in error.messages]})


def from_refusal(error: IllegalTransition) -> exceptions.APIException:
    """Where the user sits is a permission (403); anything else about the case is a conflict (409)."""
    if error.about_reach or any(error.message is refusal for refusal in REACH_REFUSALS.values()):
        return exceptions.PermissionDenied(error.message)
    return Conflict(error.message)


def exception_handler(exc, context):
    if isinstance(exc, IllegalTransition):
        exc = from_refusal(exc)
    elif isinstance(exc, DjangoValidationError):
        exc = from_service_error(exc)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    response.data = _body(exc, response.data)
    return response


def _body(exc: exceptions.APIException, data) -> dict:
    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(data if isinstance(data, dict) else {NON_FIELD: data})
        detail = errors[NON_FIELD][0] if set(errors) == {NON_FIELD} else str(INVALID)
        return {"detail": detail, "code": "invalid", "errors": errors}
    detail = data.get("detail", "") if isinstance(data, dict) else data
    code = getattr(detail, "code", None) or exc.default_code
    return {"detail": str(detail), "code": str(code)}


def _flatten(errors, prefix: str = "") -> dict[str, list[str]]:
    """Nested serializer errors as ``{"field.sub": [messages]}`` (one level of names per dot)."""
    flat: dict[str, list[str]] = {}
    if isinstance(errors, dict):
        for name, value in errors.items():
            flat.update(_flatten(value, f"{prefix}.{name}" if prefix else str(name)))
    elif isinstance(errors, list) and any(isinstance(item, (dict, list)) for item in errors):
        for index, value in enumerate(errors):
            if value:
                flat.update(_flatten(value, f"{prefix}.{index}" if prefix else str(index)))
    else:
        items = errors if isinstance(errors, list) else [errors]
        flat[prefix or NON_FIELD] = [str(item) for item in items]
    return flat
