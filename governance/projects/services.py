"""Every change to the livelihood project list: one function each, one transaction, a history row.

Items are locked (``select_for_update``) and moved with a compare-and-set on their status,
so two staff finishing the same item at once get a clear ``IllegalTransition`` for the
loser on PostgreSQL and SQLite alike. A sub-item's change rolls its item's progress up
(``Project.rolled_up``) in the same transaction.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cases.models import Case
from cases.refusals import IllegalTransition, ensure_perm, ensure_within, required
from cases.selectors import visible_cases
from cases.services import record
from cases.uploads import ValidatedPhoto
from communities.models import Department, Unit
from communities.selectors import in_subtree, scope, visible_departments, visible_posts
from volunteers.models import Suggestion

from ..coordination.selectors import visible_meetings, visible_whistles
from ..models import Meeting, Project, ProjectEvent, ProjectUpdate, Whistle
from ..themes.selectors import visible_themes

S = Project.Status
# Where an item may go from each status; done and cancelled are final.
MOVES = {
    S.PLANNED: {S.IN_PROGRESS, S.DONE, S.CANCELLED},
    S.IN_PROGRESS: {S.DONE, S.CANCELLED},
    S.DONE: set(),
    S.CANCELLED: set(),
}
EDITABLE = (
    "title", "description", "unit", "owner_user", "owner_department", "owner_unit", "deadline", "budget",
    "weight", "source", "source_suggestion", "source_meeting", "source_theme",
)


def may_change(by, project: Project) -> bool:
    return by.has_perm("governance.change_project") and in_subtree(by, project.unit.path)


def may_update(by, project: Project) -> bool:
    """The item's unit, or its owner person, may post its monthly update."""
    return by.has_perm("governance.change_project") and (in_subtree(by, project.unit.path) or project.owner_user_id == by.pk)


def _ensure_changer(by, project: Project) -> None:
    ensure_perm(by, "governance.change_project", _("You may not change the project list."))
    ensure_within(by, project.unit, _("Only the item's own unit can change it."))


def _lock(project: Project) -> Project:
    return Project.objects.select_for_update(of=("self",)).select_related("unit", "parent").get(pk=project.pk)


def _event(project: Project, *, by, action: str, note: str = "", old: str = "", new: str = "") -> ProjectEvent:
    return ProjectEvent.objects.create(
        project=project, at=timezone.now(), by=by, action=action, note=note, from_status=old, to_status=new
    )


def _move(project: Project, *, to: str, by, note: str = "", **changes) -> Project:
    """Compare-and-set the status; refuse an illegal move or a lost race."""
    old = project.status
    if to not in MOVES[old]:
        raise IllegalTransition(
            _("An item that is %(old)s cannot become %(new)s.") % {"old": project.get_status_display(), "new": S(to).label}
        )
    changes = {"status": to, "updated_at": timezone.now(), **changes}
    if Project.objects.filter(pk=project.pk, status=old).update(**changes) != 1:
        raise IllegalTransition(_("Someone else changed this item just now; reload it and try again."))
    for name, value in changes.items():
        setattr(project, name, value)
    _event(project, by=by, action=to, note=note, old=old, new=to)
    return project


# ---------------------------------------------------------------- create and edit


def _checked_fields(by, data: dict, *, parent: Project | None) -> dict:
    """Validate owners, place and sources against what ``by`` may see; raise ValidationError per field."""
    unit: Unit = data["unit"]
    ensure_within(by, unit, _("You can only put items on the lists of your own part of the tree."))
    department: Department | None = data.get("owner_department")
    owner_unit: Unit | None = data.get("owner_unit")
    if department is not None and owner_unit is not None:
        raise ValidationError({"owner_department": _("Choose a department or a unit as the owner, not both.")})
    if department is not None and not visible_departments(by).filter(pk=department.pk).exists():
        raise ValidationError({"owner_department": _("A department you cannot call on was chosen.")})
    if owner_unit is not None and not scope(Unit.objects.filter(pk=owner_unit.pk), by, path_field="path").exists():
        raise ValidationError({"owner_unit": _("A unit outside your part of the tree was chosen.")})
    person = data.get("owner_user")
    if person is not None and not (
        get_user_model().objects.filter(pk=person.pk, is_active=True).exists()
        and visible_posts(by).filter(user=person, active=True).exists()
    ):
        raise ValidationError({"owner_user": _("Choose an active member of staff of your part of the tree.")})
    if not person and department is None and owner_unit is None:
        raise ValidationError({"owner_user": _("Name an owner: a person, a department or a unit.")})
    budget: Decimal | None = data.get("budget")
    if budget is not None and budget < 0:
        raise ValidationError({"budget": _("A budget cannot be negative.")})
    _check_sources(by, data)
    if parent is not None and not unit.is_within(parent.unit):
        raise ValidationError({"unit": _("A sub-item belongs to its item's unit or a unit under it.")})
    return {name: data.get(name) for name in EDITABLE if name in data}


def _check_sources(by, data: dict) -> None:
    suggestion: Suggestion | None = data.get("source_suggestion")
    if suggestion is not None and not scope(Suggestion.objects.filter(pk=suggestion.pk), by,
                                             path_field="unit_path").exists():
        raise ValidationError({"source_suggestion": _("A suggestion you cannot see was chosen.")})
    meeting: Meeting | None = data.get("source_meeting")
    if meeting is not None and not visible_meetings(by).filter(pk=meeting.pk).exists():
        raise ValidationError({"source_meeting": _("A meeting you cannot see was chosen.")})
    theme = data.get("source_theme")
    if theme is not None and not visible_themes(by).filter(pk=theme.pk).exists():
        raise ValidationError({"source_theme": _("A theme you cannot see was chosen.")})


@transaction.atomic
def create_project(*, by, parent: Project | None = None, **data) -> Project:
    """Put an item on a unit's list (or split ``parent`` into one more sub-item)."""
    ensure_perm(by, "governance.add_project", _("You may not add items to the project list."))
    if parent is not None:
        parent = _lock(parent)
        _ensure_changer(by, parent)
        if parent.parent_id:
            raise IllegalTransition(_("A sub-item cannot be split again."))
        if not parent.is_open:
            raise IllegalTransition(_("This item is %(status)s.") % {"status": parent.get_status_display()})
    fields = _checked_fields(by, data, parent=parent)
    fields["title"] = required(fields.get("title"), "title", _("Give the item a title."))
    project = Project(parent=parent, created_by=by, **fields)
    project.full_clean(exclude=["unit_path"])
    project.save()
    _event(project, by=by, action="created", new=project.status)
    if parent is not None:
        _event(parent, by=by, action="split", note=project.title)
        _roll_up(parent, by=by)
    return project


@transaction.atomic
def edit_project(*, project: Project, by, **data) -> Project:
    project = _lock(project)
    _ensure_changer(by, project)
    fields = _checked_fields(by, data, parent=project.parent)
    fields["title"] = required(fields.get("title"), "title", _("Give the item a title."))
    changed = [name for name, value in fields.items() if getattr(project, name) != value]
    for name, value in fields.items():
        setattr(project, name, value)
    project.full_clean(exclude=["unit_path"])
    project.save()
    if changed:
        labels = ", ".join(str(Project._meta.get_field(name).verbose_name) for name in changed)
        _event(project, by=by, action="edited", note=labels)
    if project.parent_id and "weight" in changed:
        _roll_up(project.parent, by=by)
    return project


# ---------------------------------------------------------------- 月更新


@transaction.atomic
def add_update(
    *, project: Project, by, text: str, progress: int | None = None, on: date | None = None,
    photo: ValidatedPhoto | None = None, public: bool = True,
) -> ProjectUpdate:
    """The monthly update: what happened and the progress reached (an item with sub-items takes theirs)."""
    project = _lock(project)
    if not may_update(by, project):
        raise IllegalTransition(_("Only the item's unit or its owner can update it."))
    if not project.is_open:
        raise IllegalTransition(_("This item is %(status)s.") % {"status": project.get_status_display()})
    text = required(text, "text", _("Say what happened."))
    on = on or timezone.localdate()
    if on > timezone.localdate():
        raise ValidationError({"on": _("An update cannot be dated in the future.")})
    has_parts = project.sub_items.exists()
    if has_parts:
        progress = project.progress
    elif progress is None or not 0 <= progress <= 100:
        raise ValidationError({"progress": _("Give the progress in percent, from 0 to 100.")})
    update = ProjectUpdate(project=project, on=on, text=text, progress=progress, public=public, by=by)
    if photo is not None:
        update.photo_type = photo.content_type
        update.photo.save(f"photo.{photo.extension}", ContentFile(photo.content), save=False)
    update.save()
    if not has_parts:
        _set_progress(project, progress, by=by)
    return update


def _set_progress(project: Project, progress: int, *, by) -> None:
    if project.status == S.PLANNED and progress > 0:
        _move(project, to=S.IN_PROGRESS, by=by, progress=progress)
    else:
        Project.objects.filter(pk=project.pk).update(progress=progress, updated_at=timezone.now())
        project.progress = progress
    if project.parent_id:
        _roll_up(project.parent, by=by)


def _roll_up(parent: Project, *, by) -> None:
    parent = _lock(parent)
    progress = Project.rolled_up(list(parent.sub_items.values_list("progress", "weight", "status")))
    if parent.is_open and progress != parent.progress:
        _set_progress(parent, progress, by=by)


# ---------------------------------------------------------------- moves


@transaction.atomic
def start(*, project: Project, by) -> Project:
    project = _lock(project)
    _ensure_changer(by, project)
    return _move(project, to=S.IN_PROGRESS, by=by)


def _ensure_parts_closed(project: Project) -> None:
    open_parts = project.sub_items.filter(status__in=Project.OPEN).count()
    if open_parts:
        raise IllegalTransition(
            _("%(count)d sub-items are still open: finish or cancel them first.") % {"count": open_parts}
        )


@transaction.atomic
def finish(*, project: Project, by, note: str = "") -> Project:
    """Done today: progress 100 %, on time if today is not after the deadline."""
    project = _lock(project)
    _ensure_changer(by, project)
    _ensure_parts_closed(project)
    _move(project, to=S.DONE, by=by, note=(note or "").strip(), progress=100, done_on=timezone.localdate())
    if project.parent_id:
        _roll_up(project.parent, by=by)
    return project


@transaction.atomic
def cancel(*, project: Project, by, reason: str) -> Project:
    project = _lock(project)
    _ensure_changer(by, project)
    reason = required(reason, "reason", _("Say why the item is cancelled."))
    _ensure_parts_closed(project)
    _move(project, to=S.CANCELLED, by=by, note=reason)
    if project.parent_id:
        _roll_up(project.parent, by=by)
    return project


# ---------------------------------------------------------------- links


def _linkable(by, *, case: Case | None, meeting: Meeting | None, whistle: Whistle | None):
    chosen = [(name, obj) for name, obj in (("cases", case), ("meetings", meeting), ("whistles", whistle)) if obj]
    if len(chosen) != 1:
        raise ValidationError(_("Choose one case, meeting or whistle to link."))
    name, obj = chosen[0]
    visible = {"cases": visible_cases, "meetings": visible_meetings, "whistles": visible_whistles}[name](by)
    if not visible.filter(pk=obj.pk).exists():
        raise ValidationError(_("You cannot see what you chose."))
    return name, obj


@transaction.atomic
def link(*, project: Project, by, case: Case | None = None, meeting: Meeting | None = None,
         whistle: Whistle | None = None) -> Project:
    """Link a case, meeting or whistle; a linked case's timeline shows the item."""
    project = _lock(project)
    _ensure_changer(by, project)
    name, obj = _linkable(by, case=case, meeting=meeting, whistle=whistle)
    getattr(project, name).add(obj)
    _event(project, by=by, action="linked", note=str(getattr(obj, "code", obj)))
    if case is not None:
        record(case, action="project_linked", by=by, data={"project": project.pk},
               note=gettext("On the livelihood project list: %(title)s") % {"title": project.title})
    return project


@transaction.atomic
def unlink(*, project: Project, by, case: Case | None = None, meeting: Meeting | None = None,
           whistle: Whistle | None = None) -> Project:
    project = _lock(project)
    _ensure_changer(by, project)
    name, obj = _linkable(by, case=case, meeting=meeting, whistle=whistle)
    getattr(project, name).remove(obj)
    _event(project, by=by, action="unlinked", note=str(getattr(obj, "code", obj)))
    return project


# ---------------------------------------------------------------- residents


@transaction.atomic
def publish(*, project: Project, by, published: bool = True) -> Project:
    """Show the item (with its sub-items and public updates) to residents, or take it down."""
    project = _lock(project)
    ensure_perm(by, "governance.publish_project", _("You may not publish project list items."))
    ensure_within(by, project.unit, _("Only the item's own unit can publish it."))
    if project.parent_id:
        raise IllegalTransition(_("Sub-items are published with their item."))
    if published == project.is_published:
        return project
    project.published_at = timezone.now() if published else None
    Project.objects.filter(pk=project.pk).update(published_at=project.published_at, updated_at=timezone.now())
    _event(project, by=by, action="published" if published else "unpublished")
    return project
