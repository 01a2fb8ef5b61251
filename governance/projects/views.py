"""Staff pages of the livelihood project list: the list, one item, create/edit, its actions."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from cases.pages import submit
from cases.selectors import visible_cases
from cases.uploads import private_file_response
from communities.selectors import visible_units

from ..coordination.selectors import visible_meetings, visible_whistles
from ..coordination.views.common import page_of
from ..models import Project, ProjectEvent, ProjectUpdate
from . import selectors, services
from .forms import CancelForm, FinishForm, LinkForm, ListFilterForm, ProjectForm, UpdateForm

EVENT_LABELS = {
    "created": _("Put on the list"),
    "edited": _("Changed"),
    "split": _("Sub-item added"),
    "linked": _("Linked"),
    "unlinked": _("Link removed"),
    "published": _("Published to residents"),
    "unpublished": _("Taken off the public page"),
    **{status.value: status.label for status in Project.Status},
}


@require_safe
@login_required
@permission_required("governance.view_project", raise_exception=True)
def project_list(request: HttpRequest) -> HttpResponse:
    form = ListFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    unit = None
    if code := filters.get("unit"):
        unit = visible_units(request.user).filter(code=code).first()
        if unit is None:
            form.add_error("unit", _("No unit with this code is visible to you."))
    rows = selectors.project_list(
        request.user, status=filters.get("status", ""), flagged=filters.get("flagged", False),
        unit=unit, year=filters.get("year"),
    )
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page_of(request, rows), "query": query.urlencode()}
    return render(request, "governance/projects/list.html", context)


def _project(request: HttpRequest, pk: int) -> Project:
    return get_object_or_404(selectors.project_rows(selectors.visible_projects(request.user)), pk=pk)


def _forms(request: HttpRequest, project: Project, has_parts: bool) -> dict:
    user = request.user
    found = {}
    if project.is_open and services.may_update(user, project):
        found["update"] = UpdateForm(project=project, has_parts=has_parts)
    if services.may_change(user, project):
        found["link"] = LinkForm()
        if project.is_open:
            found["finish"] = FinishForm()
            found["cancel"] = CancelForm()
    return found


def render_project(request: HttpRequest, project: Project, *, failed: tuple[str, object] | None = None):
    sub_items = selectors.sub_items_of(project, request.user)
    page_forms = _forms(request, project, bool(sub_items))
    if failed:
        page_forms[failed[0]] = failed[1]
    updates = ProjectUpdate.objects.filter(project=project).select_related("by").order_by("-on", "-pk")
    events = list(ProjectEvent.objects.filter(project=project).select_related("by").order_by("at", "pk"))
    for event in events:
        event.label = EVENT_LABELS.get(event.action, event.action)
    context = {
        "project": project, "sub_items": sub_items, "updates": updates, "events": events, "forms": page_forms,
        **selectors.links_of(project, request.user),
        "may_change": services.may_change(request.user, project),
        "may_publish": request.user.has_perm("governance.publish_project") and not project.parent_id,
    }
    return render(request, "governance/projects/detail.html", context)


@require_safe
@login_required
@permission_required("governance.view_project", raise_exception=True)
def project_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render_project(request, _project(request, pk))


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
@permission_required("governance.add_project", raise_exception=True)
def project_new(request: HttpRequest, parent_pk: int | None = None) -> HttpResponse:
    parent = _project(request, parent_pk) if parent_pk else None
    initial = {"weight": 1}
    if parent is not None:
        initial |= {"unit": parent.unit_id, "deadline": parent.deadline, "source": parent.source,
                    "owner_department": parent.owner_department_id, "owner_unit": parent.owner_unit_id}
    elif unit := visible_units(request.user).filter(code=request.GET.get("unit", "")).first():
        initial["unit"] = unit.pk
    form = ProjectForm(request.POST or None, user=request.user, initial=initial)
    done = submit(
        request, form, lambda: services.create_project(parent=parent, by=request.user, **form.cleaned_data),
        _("The item is on the list."), lambda project: project,
    )
    return done or render(request, "governance/projects/form.html", {"form": form, "parent": parent})


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
@permission_required("governance.change_project", raise_exception=True)
def project_edit(request: HttpRequest, pk: int) -> HttpResponse:
    project = _project(request, pk)
    if not services.may_change(request.user, project):
        raise PermissionDenied
    form = ProjectForm(request.POST or None, user=request.user, initial=ProjectForm.initial_from(project))
    done = submit(
        request, form, lambda: services.edit_project(project=project, by=request.user, **form.cleaned_data),
        _("Saved."), project,
    )
    return done or render(request, "governance/projects/form.html", {"form": form, "project": project})


ACTIONS = {
    "update": _("Update recorded."),
    "start": _("The item is in progress."),
    "finish": _("The item is done."),
    "cancel": _("The item is cancelled."),
    "link": _("Linked."),
    "unlink": _("Link removed."),
    "publish": _("Published to residents."),
    "unpublish": _("Taken off the public page."),
}


def _bound(action: str, request: HttpRequest, project: Project):
    if action == "update":
        return UpdateForm(request.POST, request.FILES, project=project, has_parts=project.n_sub_items > 0)
    if action == "finish":
        return FinishForm(request.POST)
    if action == "cancel":
        return CancelForm(request.POST)
    if action in ("link", "unlink"):
        return LinkForm(request.POST)
    return None


def _linked(request: HttpRequest, data: dict) -> dict:
    """The case, meeting or whistle named in a link form, looked up in the user's scope."""
    user = request.user
    if code := (data.get("case") or "").strip().upper():
        return {"case": visible_cases(user).filter(code=code).first() or _missing("case")}
    if data.get("meeting"):
        return {"meeting": visible_meetings(user).filter(pk=data["meeting"]).first() or _missing("meeting")}
    return {"whistle": visible_whistles(user).filter(pk=data["whistle"]).first() or _missing("whistle")}


def _missing(field: str):
    raise ValidationError({field: _("Nothing with this number or code is visible to you.")})


def _perform(action: str, request: HttpRequest, project: Project, form) -> None:
    by = request.user
    data = form.cleaned_data if form is not None else {}
    if action == "update":
        services.add_update(project=project, by=by, text=data["text"], on=data["on"], progress=data.get("progress"),
                            photo=data["photo"], public=data["public"])
    elif action == "start":
        services.start(project=project, by=by)
    elif action == "finish":
        services.finish(project=project, by=by, note=data["note"])
    elif action == "cancel":
        services.cancel(project=project, by=by, reason=data["reason"])
    elif action in ("link", "unlink"):
        getattr(services, action)(project=project, by=by, **_linked(request, data))
    else:
        services.publish(project=project, by=by, published=action == "publish")


@require_POST
@login_required
@permission_required("governance.view_project", raise_exception=True)
def project_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    if action not in ACTIONS:
        raise Http404
    project = _project(request, pk)
    form = _bound(action, request, project)
    done = submit(
        request, form, lambda: _perform(action, request, project, form), ACTIONS[action], project, refused_to=project,
    )
    return done or render_project(request, project, failed=(_form_name(action), form))


def _form_name(action: str) -> str:
    return "link" if action == "unlink" else action


@require_safe
@login_required
@permission_required("governance.view_project", raise_exception=True)
def update_photo(request: HttpRequest, pk: int) -> FileResponse:
    """An update's photo, for staff who see its item (public or not)."""
    update = get_object_or_404(
        ProjectUpdate.objects.exclude(photo=""), pk=pk, project__in=selectors.visible_projects(request.user)
    )
    return photo_response(update)


def photo_response(update: ProjectUpdate) -> FileResponse:
    extension = "png" if update.photo_type == "image/png" else "jpg"
    return private_file_response(
        update.photo, content_type=update.photo_type or "image/jpeg", filename=f"update-{update.pk}.{extension}"
    )
