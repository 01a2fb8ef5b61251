"""What every coordination view shares (defined once for every app in ``communities.pages``)."""

from communities.pages import PAGE_SIZE, add_service_errors, page_of

__all__ = ["PAGE_SIZE", "add_service_errors", "page_of"]
