"""One Django group per department, holding its active liaisons: what guardian grants go to.

A whistle that summons a department grants ``cases.view_case`` on that case to the
department's group (one row per case and department, never one per case and user); an
invitation or an action item grants ``governance.view_meeting`` the same way. Membership
follows the liaison posts: ``sync_user`` runs whenever a post is saved (see apps.py), and
``sync_department`` before each grant, so a liaison appointed later sees the earlier cases.
"""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.db.models import Model

from communities.models import Department, Post, Role
from communities.selectors import posts_of
from communities.services import grant_object

PREFIX = "department:"


def group_name(department_id: int) -> str:
    return f"{PREFIX}{department_id}"


def department_group(department: Department) -> Group:
    group, _created = Group.objects.get_or_create(name=group_name(department.pk))
    return group


def liaison_ids(department: Department) -> set[int]:
    posts = Post.objects.active().filter(role=Role.DEPARTMENT_LIAISON, department=department)
    return set(posts.values_list("user_id", flat=True))


def sync_department(department: Department) -> Group:
    """Make the department's group hold exactly its active liaisons."""
    group = department_group(department)
    wanted = liaison_ids(department)
    present = set(group.user_set.values_list("pk", flat=True))
    if present - wanted:
        group.user_set.remove(*(present - wanted))
    if wanted - present:
        group.user_set.add(*(wanted - present))
    return group


def sync_user(user) -> None:
    """Put the user in the groups of the departments they are an active liaison of, and no others."""
    wanted = {
        group_name(pk)
        for pk in Post.objects.active()
        .filter(user=user, role=Role.DEPARTMENT_LIAISON)
        .values_list("department_id", flat=True)
    }
    held = {group.name: group for group in user.groups.filter(name__startswith=PREFIX)}
    user.groups.remove(*[group for name, group in held.items() if name not in wanted])
    for name in wanted - set(held):
        user.groups.add(Group.objects.get_or_create(name=name)[0])


def grant_to_department(*, obj: Model, department: Department, perm: str) -> None:
    grant_object(obj=obj, to=sync_department(department), perm=perm)


def liaison_departments(user) -> list[int]:
    """Departments the user speaks for (active liaison posts)."""
    return [post.department_id for post in posts_of(user) if post.role == Role.DEPARTMENT_LIAISON]


def on_post_saved(sender, instance: Post, **kwargs) -> None:
    sync_user(instance.user)


def on_post_deleted(sender, instance: Post, **kwargs) -> None:
    # Only ever removes: the user may be being deleted, so nothing is added for them here.
    if instance.role != Role.DEPARTMENT_LIAISON or not instance.department_id:
        return
    still = Post.objects.active().filter(
        user_id=instance.user_id, role=Role.DEPARTMENT_LIAISON, department_id=instance.department_id
    )
    if not still.exists():
        Group.user_set.through.objects.filter(
            user_id=instance.user_id, group__name=group_name(instance.department_id)
        ).delete()
