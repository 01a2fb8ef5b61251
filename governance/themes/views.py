"""Monthly theme pages: the list, adopting one (from a hotspot or by hand), one theme and its effect."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from cases import rates
from cases.pages import submit
from cases.selectors import visible_cases
from communities.models import Unit
from communities.selectors import in_subtree

from ..coordination.views.common import page_of
from .. import links
from ..models import Theme
from . import selectors, services
from .forms import CloseThemeForm, LinkCaseForm, ThemeForm


@require_safe
@login_required
@permission_required("governance.view_theme", raise_exception=True)
def theme_list(request: HttpRequest) -> HttpResponse:
    page = page_of(request, selectors.theme_list(request.user))
    return render(request, "governance/proactive/theme_list.html", {"page": page})


def _initial(request: HttpRequest) -> dict:
    """What an "adopt as a theme" link from a hotspot fills in (anything unknown is left out)."""
    data = request.GET
    initial = {"month": data.get("month") or rates.month_label(rates.current_month()),
               "source": data.get("source") or Theme.Source.MANUAL}
    for name in ("category", "place"):
        if (data.get(name) or "").isdigit():
            initial[name] = int(data[name])
    if data.get("unit"):
        unit = Unit.objects.filter(code=data["unit"]).values_list("pk", flat=True).first()
        if unit:
            initial["unit"] = unit
    return initial


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
@permission_required("governance.add_theme", raise_exception=True)
def theme_new(request: HttpRequest) -> HttpResponse:
    form = ThemeForm(request.POST or None, user=request.user, initial=_initial(request))
    done = submit(request, form, lambda: _adopt(request, form), _("Theme adopted."), lambda theme: theme)
    return done or render(request, "governance/proactive/theme_form.html", {"form": form})


def _adopt(request: HttpRequest, form: ThemeForm) -> Theme:
    data = form.cleaned_data
    return services.adopt_theme(
        unit=data["unit"], month=data["month"], title=data["title"], description=data["description"],
        category=data["category"], place=data["place"], lead_department=data["lead_department"],
        problems=form.problem_lines, source=data["source"], by=request.user,
    )


def _theme(request: HttpRequest, pk: int) -> Theme:
    themes = selectors.visible_themes(request.user).select_related(
        "unit", "category", "place", "lead_department", "adopted_by"
    )
    return get_object_or_404(themes, pk=pk)


def chart_data(effect: selectors.Effect) -> dict:
    return {
        "months": [rates.month_label(month) for month in effect.months],
        "counts": effect.counts,
        "adopted": rates.month_label(effect.adopted),
        "labels": {"cases": gettext("Cases"), "adopted": gettext("Adopted")},
    }


def _blank(form_class, can_act: bool, user, perm: str):
    return form_class() if can_act and user.has_perm(perm) else None


def render_theme(request: HttpRequest, theme: Theme, **forms) -> HttpResponse:
    effect = selectors.effect(theme)
    own = in_subtree(request.user, theme.unit.path)  # a unit the theme names reads it, only its own unit acts
    can_act = own and theme.status == Theme.Status.ADOPTED
    linked = selectors.linked_cases(theme)
    if not own:
        linked = linked.filter(pk__in=visible_cases(request.user).values("pk"))
    queue_url = ""
    if theme.category_id:
        first, last = effect.months[0], rates.next_month(effect.months[-1])
        queue_url = links.received_url(
            theme.place_id or theme.unit_id, first, last, category=theme.category_id, located=True
        )
    context = {
        "theme": theme,
        "problems": list(theme.problems.all()),
        "effect": effect,
        "rows": list(zip(effect.months, effect.counts)),
        "chart_data": chart_data(effect),
        "linked": list(linked[:50]),
        "events": selectors.events(theme),
        "queue_url": queue_url,
        "link_form": forms.get("link_form") or _blank(LinkCaseForm, can_act, request.user, "governance.change_theme"),
        "close_form": (
            forms.get("close_form") or _blank(CloseThemeForm, can_act, request.user, "governance.close_theme")
        ),
    }
    return render(request, "governance/proactive/theme_detail.html", context)


@require_safe
@login_required
@permission_required("governance.view_theme", raise_exception=True)
def theme_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render_theme(request, _theme(request, pk))


@require_POST
@login_required
@permission_required("governance.change_theme", raise_exception=True)
def theme_link(request: HttpRequest, pk: int) -> HttpResponse:
    theme = _theme(request, pk)
    form = LinkCaseForm(request.POST)
    done = submit(
        request, form, lambda: _link(request, theme, form.cleaned_data["code"].strip().upper()),
        lambda case: _("Case %(code)s linked.") % {"code": case.code}, theme,
    )
    return done or render_theme(request, theme, link_form=form)


def _link(request: HttpRequest, theme: Theme, code: str):
    """Link the case ``code`` among the cases the user sees; the case."""
    case = visible_cases(request.user).filter(code=code).first()
    if case is None:
        raise ValidationError({"code": _("No case %(code)s among the cases you see.") % {"code": code}})
    services.link_case(theme=theme, case=case, by=request.user)
    return case


@require_POST
@login_required
@permission_required("governance.close_theme", raise_exception=True)
def theme_close(request: HttpRequest, pk: int) -> HttpResponse:
    theme = _theme(request, pk)
    form = CloseThemeForm(request.POST)
    done = submit(
        request, form, lambda: services.close_theme(theme=theme, by=request.user, outcome=form.cleaned_data["outcome"]),
        _("Theme closed."), theme, refused_to=theme,
    )
    return done or render_theme(request, theme, close_form=form)
