"""Staff pages of the tier tree: the workspace, unit pages and building pages.

Every object is looked up through the scoping selectors, so another subtree's unit or
building answers 404; every list is one query (or a fixed few) whatever its length.
"""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from . import panels, selectors
from .models import Role


@require_safe
@login_required
def workspace(request: HttpRequest) -> HttpResponse:
    """The landing page after login: my posts, the tree under them, what my roles may use."""
    user = request.user
    roots = selectors.tree_roots(user)
    children = selectors.visible_children(user, roots)
    counts = selectors.subtree_counts(user, [*roots, *(c for kids in children.values() for c in kids)])
    buildings = _by_unit(selectors.buildings_with_totals(user, roots))
    trees = [
        {
            "unit": root,
            "counts": counts[root.pk],
            "children": [(child, counts[child.pk]) for child in children[root.pk]],
            "buildings": buildings.get(root.pk, []),
        }
        for root in roots
    ]
    context = {
        "posts": selectors.posts_of(user),
        "trees": trees,
        "shared_buildings": list(selectors.shared_buildings(user)),
        "panels": panels.render("workspace", request, user),
    }
    return render(request, "communities/workspace.html", context)


@require_safe
@login_required
def unit_detail(request: HttpRequest, code: str) -> HttpResponse:
    user = request.user
    unit = get_object_or_404(selectors.visible_units(user), code=code)
    _ensure_may_view(user, "communities.view_unit", unit)
    children = selectors.visible_children(user, [unit])[unit.pk]
    counts = selectors.subtree_counts(user, [unit, *children])
    context = {
        "unit": unit,
        "breadcrumbs": selectors.breadcrumbs(user, unit),
        "totals": counts[unit.pk],
        "children": [(child, counts[child.pk]) for child in children],
        "buildings": selectors.buildings_with_totals(user, [unit]),
        "posts": _in_role_order(selectors.visible_posts(user).filter(unit=unit, active=True)),
        "partners": selectors.visible_partners(user).filter(unit=unit).order_by("kind", "name"),
        "departments": selectors.visible_departments(user).filter(unit=unit),
        "panels": panels.render("unit_detail", request, unit),
    }
    return render(request, "communities/unit_detail.html", context)


@require_safe
@login_required
def building_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    building = get_object_or_404(selectors.visible_buildings(user).select_related("property_manager"), pk=pk)
    _ensure_may_view(user, "communities.view_building", building)
    context = {
        "building": building,
        "breadcrumbs": selectors.breadcrumbs(user, building.unit, include_self=True),
        "layout": selectors.building_layout(building),
        "panels": panels.render("building_detail", request, building),
    }
    return render(request, "communities/building_detail.html", context)


def _ensure_may_view(user, perm: str, obj: Model) -> None:
    """The role's model permission, or a guardian grant on this very object."""
    if not (user.has_perm(perm) or user.has_perm(perm, obj)):
        raise PermissionDenied


def _by_unit(buildings) -> dict[int, list]:
    grouped: dict[int, list] = {}
    for building in buildings:
        grouped.setdefault(building.unit_id, []).append(building)
    return grouped


def _in_role_order(posts) -> list:
    order = {role: index for index, role in enumerate(Role.values)}
    return sorted(posts, key=lambda post: (order.get(post.role, len(order)), post.user.get_username()))
