"""Cursor pages: stable while rows are added (a hotline pushes all day), no COUNT over millions."""

from __future__ import annotations

from rest_framework import pagination


class CursorPagination(pagination.CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = ("-pk",)

    def get_ordering(self, request, queryset, view) -> tuple[str, ...]:
        return tuple(getattr(view, "cursor_ordering", self.ordering))
