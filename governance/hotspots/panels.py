"""The case page's "same problem nearby" panel (一个诉求解决一类现象), at most three queries."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from django.db.models import BooleanField, Count, Exists, ExpressionWrapper, OuterRef, Q, Window
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from cases.models import Case
from communities import panels

from .. import links
from ..models import Theme, ThemeCase
from ..themes.selectors import themes_of_case
from . import selectors


def sibling_panel(request: HttpRequest, case: Case) -> str | None:
    """Siblings of the case (same category, same building or community, within three months),
    and the monthly themes it counts towards."""
    user = request.user
    siblings = selectors.siblings(user, case)
    # The count of them all rides on the first rows (a window over the whole match): one query.
    rows = list(
        siblings.annotate(total=Window(Count("pk"))).select_related("location_unit")
        .only("code", "title", "received_at", "status", "location_unit__name")  # what a line shows
        .order_by("-received_at", "-pk")[: selectors.SIBLING_LIST]
    )
    may_count = user.has_perm("governance.view_theme") and panels.flag(case, "panel_themes")
    themes = list(themes_of_case(user, case)) if may_count else []
    if not rows and not themes:
        return None
    count = rows[0].total if rows else 0
    kind, place, _path = selectors.sibling_place(case)
    window = timedelta(days=selectors.SIBLING_DAYS)
    received = timezone.localtime(case.received_at)
    first, last = (received - window).date(), (received + window).date()
    adopt_url = ""
    if rows and user.has_perm("governance.add_theme"):
        query = urlencode({"category": case.category_id, "place": place, "source": Theme.Source.HOTSPOT})
        adopt_url = f"{reverse('proactive:theme_new')}?{query}"
    context = {
        "case": case, "siblings": rows, "count": count, "themes": themes, "by_building": kind == selectors.BUILDING,
        "adopt_url": adopt_url,
        "queue_url": links.received_url(
            place, first, last, category=case.category_id, search=case.building.name if case.building_id else "",
            located=True,
        ),
    }
    return render_to_string("governance/proactive/_case_panel.html", context, request=request)


def register_all() -> None:
    panels.register("case_detail", order=40)(sibling_panel)
    # No theme of the case's category (or its parent) and no link to one: the case counts towards none.
    panels.register_flag("case_detail", "panel_themes", lambda: ExpressionWrapper(Exists(Theme.objects.filter(
        Q(category_id=OuterRef("category_id")) | Q(category_id=OuterRef("category__parent_id"))
    )) | Exists(ThemeCase.objects.filter(case=OuterRef("pk"))), output_field=BooleanField()))
