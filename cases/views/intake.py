"""Staff intake (/cases/new/): a request taken at a window, from 12345, on patrol, from a volunteer or a meeting."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from communities.selectors import visible_buildings, visible_units

from .. import selectors, services
from ..forms_staff import IntakeForm
from ..models import Case
from ..pages import submit
from ..queries_staff import with_deadlines

TEMPLATE = "cases/intake.html"


def _form(request: HttpRequest, data=None, files=None) -> IntakeForm:
    return IntakeForm(
        data, files, units=visible_units(request.user).order_by("path"),
        buildings=visible_buildings(request.user).order_by("unit__path", "name"),
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def intake(request: HttpRequest) -> HttpResponse:
    if not services.may_take_in(request.user):
        raise PermissionDenied
    if request.method != "POST":
        return render(request, TEMPLATE, {"form": _form(request)})
    form = _form(request, request.POST, request.FILES)
    if not form.is_valid():
        return render(request, TEMPLATE, {"form": form})
    if duplicates := _likely_duplicates(request, form):
        form.data = form.data.copy()
        form.data["save_anyway"] = "on"  # the second submit saves despite the duplicates
        return render(request, TEMPLATE, {"form": form, "duplicates": duplicates})
    kwargs = form.service_kwargs()
    seen = bool(kwargs["hotline_order_no"]) and Case.objects.filter(hotline_order_no=kwargs["hotline_order_no"]).exists()
    done = submit(
        request, form, lambda: services.intake(by=request.user, **kwargs), "",
        lambda case: _registered(request, case, seen=seen),
    )
    return done or render(request, TEMPLATE, {"form": form})


def _likely_duplicates(request: HttpRequest, form: IntakeForm) -> list[Case]:
    data = form.cleaned_data
    if data.get("save_anyway"):
        return []
    fields = {
        "category": data["category"], "building": data.get("building"), "address": data.get("address"),
        "received_at": data.get("received_at") or timezone.now(),
    }
    return with_deadlines(selectors.likely_duplicates(fields, request.user)[:10])


def _registered(request: HttpRequest, case: Case, *, seen: bool) -> HttpResponse:
    visible = selectors.visible_cases(request.user).filter(pk=case.pk).exists()
    if seen and not visible:  # the code only to those who may see the case: order numbers are sequential
        messages.info(request, _("This 12345 order is already registered, in a unit outside your part of the tree."))
    elif seen:  # the hotline sent this order before: intake handed back the case made from it
        messages.info(request, _("This 12345 order is already registered as case %(code)s.") % {"code": case.code})
    else:
        messages.success(
            request,
            _("Case %(code)s is registered and waits at %(unit)s for dispatch.") % {"code": case.code, "unit": case.unit},
        )
    if visible:
        return redirect(case)
    return redirect("cases:queue")
