from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import Count, Prefetch, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from . import selectors
from .models import Household, Stairwell


@require_safe
@login_required
def workspace(request: HttpRequest) -> HttpResponse:
    """The home page of a post: my units, the tree under them, what my roles may use."""
    posts = selectors.posts_of(request.user)
    top_units = {post.unit.pk: post.unit for post in posts}.values()
    roots = list(top_units)
    if request.user.is_superuser and not roots:
        roots = list(selectors.visible_units(request.user).filter(parent__isnull=True))
    children = {
        unit.pk: list(selectors.children_with_counts(unit)) for unit in roots
    }
    return render(
        request,
        "communities/workspace.html",
        {"posts": posts, "roots": [(unit, children[unit.pk]) for unit in roots]},
    )


@require_safe
@login_required
@permission_required("communities.view_unit", raise_exception=True)
def unit_detail(request: HttpRequest, code: str) -> HttpResponse:
    unit = get_object_or_404(selectors.visible_units(request.user), code=code)
    visible = selectors.visible_units(request.user)
    breadcrumbs = unit.ancestors().filter(pk__in=visible.values("pk"))
    buildings = (
        selectors.visible_buildings(request.user)
        .filter(unit=unit)
        .annotate(n_stairwells=Count("stairwells", distinct=True))
    )
    return render(
        request,
        "communities/unit_detail.html",
        {
            "unit": unit,
            "breadcrumbs": breadcrumbs,
            "children": selectors.children_with_counts(unit).filter(pk__in=visible.values("pk")),
            "buildings": buildings,
            "posts": selectors.visible_posts(request.user).filter(unit=unit, active=True),
            "partners": selectors.visible_partners(request.user).filter(unit=unit),
        },
    )


@require_safe
@login_required
@permission_required("communities.view_building", raise_exception=True)
def building_detail(request: HttpRequest, pk: int) -> HttpResponse:
    building = get_object_or_404(selectors.visible_buildings(request.user), pk=pk)
    stairwells = building.stairwells.prefetch_related(
        Prefetch("households", queryset=Household.objects.order_by("-floor", "room"))
    ).annotate(n_households=Count("households"), total_area=Sum("households__area"))
    return render(
        request,
        "communities/building_detail.html",
        {"building": building, "stairwells": stairwells},
    )
