"""What every coordination view shares (defined once for every app in ``communities.pages``)."""

from communities.pages import PAGE_SIZE, page_of

__all__ = ["PAGE_SIZE", "page_of"]
