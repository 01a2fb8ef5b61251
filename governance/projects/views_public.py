"""Residents' progress pages (namespace ``projects_public``), like the 康营家园 construction updates.

Only published items of a community and of the street and area above it, and only what may be posted in a
stairwell: title, description, the owning organisation, deadline, progress, public updates.
Never an owner person, a budget, a linked case or who wrote an update.
"""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from communities.models import Unit

from ..models import Project
from . import selectors
from .views import photo_response


def _community(code: str) -> Unit:
    return get_object_or_404(Unit.objects.select_related("parent"), code=code, level=Unit.Level.COMMUNITY)


@require_safe
def choose(request: HttpRequest) -> HttpResponse:
    """Every community, by street: residents pick theirs."""
    communities = (
        Unit.objects.filter(level=Unit.Level.COMMUNITY)
        .select_related("parent")
        .order_by("parent__sort_order", "parent__name", "sort_order", "name")
    )
    return render(request, "governance/projects/public_choose.html", {"communities": communities})


@require_safe
def community(request: HttpRequest, code: str) -> HttpResponse:
    unit = _community(code)
    projects = list(selectors.published_projects(unit))
    return render(request, "governance/projects/public_list.html", {"community": unit, "projects": projects})


@require_safe
def item(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    unit = _community(code)
    project = selectors.published_projects(unit).filter(pk=pk).first()
    if project is None:
        raise Http404
    parts = list(project.sub_items.exclude(status=Project.Status.CANCELLED).order_by("deadline", "pk"))
    updates = selectors.public_updates([project])
    context = {"community": unit, "project": project, "parts": parts, "updates": updates}
    return render(request, "governance/projects/public_item.html", context)


@require_safe
def photo(request: HttpRequest, pk: int) -> FileResponse:
    update = selectors.public_photo(pk)
    if update is None:
        raise Http404
    return photo_response(update)
