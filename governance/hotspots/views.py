"""The hotspot page of a tier: the top rising and the most persistent clusters, each linked to its cases.

A unit is looked up through ``dashboards.selectors.dashboard_units``, like the dashboards:
another subtree's unit, or a tier above the user's own, answers 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_safe

from cases import rates
from communities.selectors import breadcrumbs

from .. import links
from ..months import chosen_month
from ..dashboards.selectors import dashboard_units, top_unit
from . import selectors
from .selectors import Cluster


@dataclass
class Row:
    cluster: Cluster
    url: str  # the cluster's cases in the case queue
    month_url: str  # only this month's
    adopt_url: str


def hotspots_url(unit, month, level: str) -> str:
    query = urlencode({"month": rates.month_label(month), "level": level})
    return f"{reverse('proactive:hotspots_unit', kwargs={'code': unit.code})}?{query}"


def cluster_row(cluster: Cluster, unit, month, *, from_streak: bool) -> Row:
    """A cluster with its links: its cases over the window (or its streak), this month's, adopting it."""
    first = cluster.streak_start if from_streak else cluster.months[0]
    last = selectors.last_day(month)
    search = cluster.building
    adopt = urlencode({
        "unit": unit.code, "month": rates.month_label(month), "category": cluster.category_id,
        "place": cluster.place_id, "source": "hotspot",  # a building's cluster: its grid
    })
    return Row(
        cluster,
        links.received_url(
            cluster.place_id, first, last, category=cluster.category_id, search=search, located=True
        ),
        links.received_url(
            cluster.place_id, month, last, category=cluster.category_id, search=search, located=True
        ),
        f"{reverse('proactive:theme_new')}?{adopt}",
    )


@require_safe
@login_required
@permission_required("cases.view_case", raise_exception=True)
def index(request: HttpRequest) -> HttpResponse:
    unit = top_unit(request.user)
    if unit is None:
        raise Http404
    return redirect("proactive:hotspots_unit", code=unit.code)


@require_safe
@login_required
@permission_required("cases.view_case", raise_exception=True)
def unit_hotspots(request: HttpRequest, code: str) -> HttpResponse:
    unit = get_object_or_404(dashboard_units(request.user), code=code)
    month, form = chosen_month(request.GET)
    levels = selectors.levels_for(unit)
    level = request.GET.get("level") or selectors.default_level(unit)
    bad_level = level not in levels
    if bad_level:
        level = selectors.default_level(unit)
    found = selectors.top_clusters(unit, month, level=level)
    following = rates.next_month(month)
    context = {
        "unit": unit, "form": form, "found": found, "level": level, "bad_level": bad_level,
        "levels": [(name, selectors.LEVEL_LABELS[name], hotspots_url(unit, month, name)) for name in levels],
        "month_label": rates.month_label(month),
        "previous_url": hotspots_url(unit, rates.previous_month(month), level),
        "next_url": hotspots_url(unit, following, level) if following <= rates.current_month() else "",
        "breadcrumbs": breadcrumbs(request.user, unit),
        "rising": [cluster_row(c, unit, month, from_streak=False) for c in found.rising],
        "persistent": [cluster_row(c, unit, month, from_streak=True) for c in found.persistent],
        "can_adopt": request.user.has_perm("governance.add_theme") and unit.level in ("area", "street", "community"),
        "settings": {
            "rising_min": selectors.RISING_MIN, "persistent_min": selectors.PERSISTENT_MIN,
            "persistent_months": selectors.PERSISTENT_MONTHS, "recent_months": selectors.RECENT_MONTHS,
        },
    }
    return render(request, "governance/proactive/hotspots.html", context)
