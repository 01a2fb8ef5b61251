"""Cursor pages: stable while rows are added (a hotline pushes all day), no COUNT over millions."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import pagination
from rest_framework.exceptions import NotFound, ValidationError


class CursorPagination(pagination.CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = ("-pk",)

    def get_ordering(self, request, queryset, view) -> tuple[str, ...]:
        return tuple(getattr(view, "cursor_ordering", self.ordering))

    def get_page_size(self, request) -> int:
        """The asked size, at most ``max_page_size``; anything but a whole number from 1 is refused."""
        text = request.query_params.get(self.page_size_query_param)
        if text is None:
            return self.page_size
        if not text.isascii() or not text.isdigit() or int(text) < 1:
            raise ValidationError({self.page_size_query_param: [_("Enter a whole number from 1 to 200.")]})
        return min(int(text), self.max_page_size)

    def decode_cursor(self, request):
        """A cursor that is not one of ours is invalid input (400), not a missing page."""
        try:
            return super().decode_cursor(request)
        except NotFound:
            raise ValidationError({self.cursor_query_param: [_("This is not a cursor from a previous page.")]}) from None

    def get_schema_operation_parameters(self, view) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update({"minimum": 1})
        return parameters
