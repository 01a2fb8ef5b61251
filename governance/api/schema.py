"""The OpenAPI schema says what the API really answers, errors included (it is fuzzed in the tests)."""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

ERROR_STATUSES = {
    "400": "Invalid input: `errors` names each field and what is wrong with it.",
    "401": "Not signed in: send `Authorization: Token <key>` or a session cookie.",
    "403": "The role does not allow this, or the case is outside the user's part of the tree.",
    "404": "Not found, or not in the user's part of the tree (another unit's objects are never shown).",
    "429": "Too many requests: wait the seconds given in the Retry-After header.",
}
CONFLICT = "The case's state does not allow this move now (e.g. already accepted by someone else)."


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong, in the user's language.")
    code = serializers.CharField(help_text="A stable machine-readable code, e.g. invalid, not_found, illegal_transition.")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()), required=False,
        help_text="Invalid input only: messages per field (non_field_errors for the request as a whole).",
    )


class AutoSchema(SpectacularAutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        errors = dict(ERROR_STATUSES)
        if self.method == "POST":
            errors["409"] = CONFLICT
        for code, description in errors.items():
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    OpenApiResponse(ErrorSerializer, description=description), code, direction=direction
                )
        return responses
