"""Tasks from cases: handed over from the case page's panel, reported on the task page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST, require_safe

from cases.pages import submit
from cases.selectors import visible_cases
from cases.views.case import render_case

from .. import selectors, services
from ..forms import ReasonForm, TaskForm, TaskReportForm
from ..models import Task


@require_POST
@login_required
@permission_required("volunteers.assign_task", raise_exception=True)
def assign(request: HttpRequest, code: str) -> HttpResponse:
    case = get_object_or_404(visible_cases(request.user).select_related("location_unit", "building", "category"), code=code)
    form = TaskForm(request.POST, volunteers=selectors.task_candidates(case))
    if done := submit(
        request, form, lambda: services.assign_task(case=case, by=request.user, **form.cleaned_data),
        lambda task: _("The task was handed to %(name)s.") % {"name": task.volunteer.name}, case, refused_to=case,
    ):
        return done
    request.volunteer_task_form = form  # the case page's panel shows it again, with what was typed
    response = render_case(request, case)
    response.status_code = 400
    return response


def _task(request: HttpRequest, pk: int) -> Task:
    return get_object_or_404(selectors.visible_tasks(request.user), pk=pk)


@require_safe
@login_required
@permission_required("volunteers.view_task", raise_exception=True)
def task(request: HttpRequest, pk: int) -> HttpResponse:
    return render_task(request, _task(request, pk))


def render_task(request: HttpRequest, task: Task, *, forms: dict | None = None, status: int = 200) -> HttpResponse:
    context = {"task": task, "report_form": TaskReportForm(), "cancel_form": ReasonForm(), **(forms or {})}
    return render(request, "volunteers/task_detail.html", context, status=status)


@require_POST
@login_required
@permission_required("volunteers.assign_task", raise_exception=True)
def report(request: HttpRequest, pk: int) -> HttpResponse:
    task = _task(request, pk)
    form = TaskReportForm(request.POST)
    done = submit(
        request, form, lambda: services.report_task(task=task, by=request.user, **form.cleaned_data),
        _("The report is on the case's timeline and the hours were credited."), task, refused_to=task,
    )
    return done or render_task(request, task, forms={"report_form": form}, status=400)


@require_POST
@login_required
@permission_required("volunteers.assign_task", raise_exception=True)
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    task = _task(request, pk)
    form = ReasonForm(request.POST)
    done = submit(
        request, form, lambda: services.cancel_task(task=task, by=request.user, reason=form.cleaned_data["reason"]),
        _("The task was withdrawn."), task, refused_to=task,
    )
    return done or render_task(request, task, forms={"cancel_form": form}, status=400)
