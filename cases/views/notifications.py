"""The user's notifications (/cases/notifications/): unread first, mark read."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from communities.pages import page_of

from ..queries_staff import notifications_of


@require_safe
@login_required
def notifications(request: HttpRequest) -> HttpResponse:
    page = page_of(request, notifications_of(request.user))
    return render(request, "cases/notifications.html", {"page": page})


@require_POST
@login_required
def mark_read(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Mark one of the user's notifications (without ``pk``: all of them) as read."""
    unread = request.user.notifications.filter(read_at__isnull=True)
    if pk is not None:
        unread = unread.filter(pk=pk)
    unread.update(read_at=timezone.now())
    return redirect("cases:notifications")
