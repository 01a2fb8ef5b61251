"""The role-aware admin of the tier tree, buildings, partners, staff posts and accounts.

An administrator sees and edits their subtree only (``admin_scoping``); posts are saved
through ``communities.services`` so role groups and ``is_staff`` always follow them.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Count, Prefetch, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import names, selectors, services, twofactor
from .admin_scoping import (
    MissingIs404Mixin, ReadOnlyAdminMixin, ScopedAdminMixin, ScopedInlineMixin, administrable_users,
)
from .models import Building, Department, Household, PartnerOrganisation, Post, SecurityEvent, Stairwell, Unit

User = get_user_model()

admin.site.site_header = _("接诉即办 governance portal administration")
admin.site.site_title = _("接诉即办 governance portal administration")


def _is_root_of_subtree(request: HttpRequest, unit: Unit | None) -> bool:
    paths = selectors.subtree_paths(request.user)
    return unit is not None and paths is not selectors.EVERYWHERE and unit.path in paths


class UnitAdminForm(forms.ModelForm):
    class Meta:
        model = Unit
        fields = "__all__"

    def clean_level(self) -> str:
        level = self.cleaned_data["level"]
        unit = self.instance
        if unit.pk and level != unit.level and unit.children.exists():
            raise forms.ValidationError(_("A unit with units under it cannot change its level."))
        return level


@admin.register(Unit)
class UnitAdmin(ScopedAdminMixin, admin.ModelAdmin):
    form = UnitAdminForm
    scope_path_field = "path"
    list_display = ("name", "code", "level", "parent", "depth", "sort_order", "phone")
    list_filter = ("level",)
    search_fields = ("name", "code", "address")
    list_select_related = ("parent",)
    readonly_fields = ("path", "depth")
    fields = ("name", "code", "level", "parent", "sort_order", "address", "phone", "path", "depth")

    def get_readonly_fields(self, request: HttpRequest, obj: Unit | None = None) -> tuple[str, ...]:
        # The top of an administrator's own subtree stays where it is: its parent lies
        # outside what they may choose from.
        if _is_root_of_subtree(request, obj):
            return (*self.readonly_fields, "level", "parent")
        return self.readonly_fields

    def get_form(self, request: HttpRequest, obj: Unit | None = None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if not request.user.is_superuser and "parent" in form.base_fields:
            form.base_fields["parent"].required = True
        return form


class StairwellInline(ScopedInlineMixin, admin.TabularInline):
    model = Stairwell
    scope_path_field = "building__unit__path"
    fields = ("number",)
    extra = 0
    show_change_link = True


@admin.register(Building)
class BuildingAdmin(ScopedAdminMixin, admin.ModelAdmin):
    scope_path_field = "unit__path"
    list_display = ("name", "code", "unit", "floors", "has_elevator", "year_built", "property_manager")
    list_filter = ("has_elevator", "unit__level")
    search_fields = ("name", "code", "address", "unit__name")
    list_select_related = ("unit", "property_manager")
    inlines = [StairwellInline]

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs):
        formfield = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "unit":
            formfield.queryset = formfield.queryset.filter(
                level__in=[Unit.Level.COMMUNITY, Unit.Level.GRID]
            )
        return formfield


class HouseholdInline(ScopedInlineMixin, admin.TabularInline):
    model = Household
    scope_path_field = "stairwell__building__unit__path"
    fields = ("floor", "room", "area", "occupied")
    extra = 0


@admin.register(Stairwell)
class StairwellAdmin(ScopedAdminMixin, admin.ModelAdmin):
    scope_path_field = "building__unit__path"
    list_display = ("__str__", "building", "number", "household_count")
    search_fields = ("building__name",)
    list_filter = ("building__unit__level",)
    list_select_related = ("building",)
    inlines = [HouseholdInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).annotate(n_households=Count("households"))

    @admin.display(description=_("households"), ordering="n_households")
    def household_count(self, stairwell: Stairwell) -> int:
        return stairwell.n_households


@admin.register(Household)
class HouseholdAdmin(ScopedAdminMixin, admin.ModelAdmin):
    scope_path_field = "stairwell__building__unit__path"
    list_display = ("__str__", "stairwell", "floor", "room", "area", "occupied")
    list_filter = ("occupied",)
    search_fields = ("room", "stairwell__building__name")
    list_select_related = ("stairwell__building",)
    autocomplete_fields = ("stairwell",)
    # The head's phone is personal data: it comes in and goes out through the area workbook
    # (masked unless revealed, and logged), never shown in full on a form.
    exclude = ("phone",)


@admin.register(Department)
class DepartmentAdmin(ScopedAdminMixin, admin.ModelAdmin):
    scope_path_field = "unit__path"
    list_display = ("name", "kind", "unit", "contact_name", "contact_phone")
    list_filter = ("kind",)
    search_fields = ("name", "contact_name")
    list_select_related = ("unit",)


@admin.register(PartnerOrganisation)
class PartnerOrganisationAdmin(ScopedAdminMixin, admin.ModelAdmin):
    scope_path_field = "unit__path"
    list_display = ("name", "kind", "unit", "contact_name", "contact_phone")
    list_filter = ("kind", "unit__level")
    search_fields = ("name", "contact_name", "unit__name")
    list_select_related = ("unit",)


def save_post(post: Post) -> Post:
    """Save a post edited in a form through the services that keep groups in step.

    A post is (user, unit, role): changing one of those ends the old post and
    assigns a new one, so what a person held and when stays on record.
    """
    original = Post.objects.filter(pk=post.pk).first() if post.pk else None
    if original and (original.user_id, original.unit_id, original.role) != (
        post.user_id,
        post.unit_id,
        post.role,
    ):
        if original.active:
            services.end_post(post=original)
    saved = services.assign_post(
        user=post.user,
        unit=post.unit,
        role=post.role,
        portfolio=post.portfolio,
        department=post.department,
        title=post.title,
    )
    if not post.active:
        saved = services.end_post(post=saved)
    post.pk = saved.pk
    return saved


def _after_posts_deleted(posts: list[Post]) -> None:
    for user in {post.user for post in posts}:
        services.sync_role_groups(user)


@admin.register(Post)
class PostAdmin(ScopedAdminMixin, admin.ModelAdmin):
    scope_path_field = "unit__path"
    list_display = ("user", "full_name", "role", "portfolio", "unit", "department", "title", "active")
    list_filter = ("role", "active", "unit__level", "portfolio")
    search_fields = ("user__username", "user__first_name", "user__last_name", "unit__name", "title")
    list_select_related = ("user", "unit", "department")
    autocomplete_fields = ("user",)
    fields = ("user", "unit", "role", "portfolio", "department", "title", "active", "created_at")
    readonly_fields = ("created_at",)

    @admin.display(description=_("name"), ordering="user__last_name")
    def full_name(self, post: Post) -> str:
        return names.full_name(post.user)

    def save_model(self, request: HttpRequest, obj: Post, form, change: bool) -> None:
        save_post(obj)

    def delete_model(self, request: HttpRequest, obj: Post) -> None:
        super().delete_model(request, obj)
        _after_posts_deleted([obj])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        posts = list(queryset.select_related("user"))
        super().delete_queryset(request, queryset)
        _after_posts_deleted(posts)


class PostInline(ScopedInlineMixin, admin.TabularInline):
    model = Post
    fk_name = "user"
    scope_path_field = "unit__path"
    fields = ("unit", "role", "portfolio", "department", "title", "active")
    extra = 1
    can_delete = False
    verbose_name_plural = _("staff posts (untick \"active\" to end one; role groups follow posts)")


ESCALATION_FIELDS = ("is_staff", "is_superuser", "groups", "user_permissions")


admin.site.unregister(User)


@admin.register(User)
class UserAdmin(MissingIs404Mixin, DjangoUserAdmin):
    """Django's user admin, limited to the accounts an administrator may manage."""

    list_display = ("username", "full_name", "post_summary", "is_active", "is_staff", "last_login")
    list_filter = ("is_active", "is_staff", "posts__role", "posts__unit__level")
    actions = ["unlock_login", "reset_two_factor", "require_new_password"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        visible_posts = selectors.scope(
            Post.objects.select_related("unit").order_by("unit__path", "role"),
            request.user,
            path_field="unit__path",
        )
        return (
            administrable_users(request.user)
            .prefetch_related(Prefetch("posts", queryset=visible_posts, to_attr="visible_posts"))
        )

    def get_inlines(self, request: HttpRequest, obj=None) -> list:
        return [PostInline] if obj is not None else []

    def get_readonly_fields(self, request: HttpRequest, obj=None) -> tuple[str, ...]:
        readonly = tuple(super().get_readonly_fields(request, obj))
        if request.user.is_superuser:
            return readonly
        return (*readonly, *ESCALATION_FIELDS, "last_login", "date_joined")

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        if not super().has_change_permission(request, obj):
            return False
        if obj is None or request.user.is_superuser:
            return True
        # Someone who also holds a post outside my subtree answers to another
        # administrator too: I may look, not change their account.
        outside = Post.objects.active().filter(user=obj).exclude(
            selectors.path_q(request.user, "unit__path")
        )
        return not outside.exists()

    @admin.action(description=_("Unlock login (clear failed attempts)"), permissions=["change"])
    def unlock_login(self, request: HttpRequest, queryset: QuerySet) -> None:
        users = [user for user in queryset if self.has_change_permission(request, user)]
        for user in users:
            services.unlock_login(user=user, by=request.user)
        self.message_user(
            request,
            ngettext("%(count)d account unlocked.", "%(count)d accounts unlocked.", len(users)) % {"count": len(users)},
            messages.SUCCESS,
        )

    @admin.action(description=_("Reset two-factor sign-in (lost phone)"), permissions=["change"])
    def reset_two_factor(self, request: HttpRequest, queryset: QuerySet) -> None:
        """Each reset is in the security log; one's own, a peer's or a superior's is refused."""
        done, refused = 0, 0
        for user in queryset:
            if not self.has_change_permission(request, user) or not twofactor.may_reset(request.user, user):
                refused += 1
                continue
            twofactor.reset(user=user, by=request.user, request=request)
            done += 1
        if done:
            self.message_user(request, ngettext(
                "Two-factor sign-in reset for %(count)d account: it sets up a new phone at its next sign-in.",
                "Two-factor sign-in reset for %(count)d accounts: they set up a new phone at their next sign-in.",
                done) % {"count": done}, messages.SUCCESS)
        if refused:
            self.message_user(request, ngettext(
                "%(count)d account was left alone: only a higher administrator may reset it.",
                "%(count)d accounts were left alone: only a higher administrator may reset them.",
                refused) % {"count": refused}, messages.WARNING)

    @admin.action(description=_("Require a new password at next sign-in"), permissions=["change"])
    def require_new_password(self, request: HttpRequest, queryset: QuerySet) -> None:
        users = [user for user in queryset if self.has_change_permission(request, user)]
        for user in users:
            twofactor.require_password_change(user)
        self.message_user(request, ngettext(
            "%(count)d account will choose a new password at its next sign-in.",
            "%(count)d accounts will choose a new password at their next sign-in.",
            len(users)) % {"count": len(users)}, messages.SUCCESS)

    def save_model(self, request: HttpRequest, obj, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if not change:  # the administrator chose the first password: the person chooses their own
            twofactor.require_password_change(obj)

    def user_change_password(self, request: HttpRequest, id, form_url=""):
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302 and str(id) != str(request.user.pk):
            twofactor.require_password_change(self.get_object(request, id))
        return response

    @admin.display(description=_("name"), ordering="last_name")
    def full_name(self, user) -> str:
        return names.full_name(user)

    @admin.display(description=_("posts"))
    def post_summary(self, user) -> str:
        return "; ".join(
            f"{post.get_role_display()} · {post.unit}" for post in user.visible_posts if post.active
        )

    def save_formset(self, request: HttpRequest, form, formset, change: bool) -> None:
        if formset.model is not Post:
            return super().save_formset(request, form, formset, change)
        # What formset.save() would record, for the admin's change message.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for post_form in formset.forms:
            if not post_form.has_changed() or post_form in formset.deleted_forms:
                continue
            is_new = post_form.instance.pk is None
            post_form.instance.user = form.instance
            saved = save_post(post_form.instance)
            if is_new:
                formset.new_objects.append(saved)
            else:
                formset.changed_objects.append((saved, post_form.changed_data))

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        services.sync_role_groups(form.instance)


@admin.register(SecurityEvent)
class SecurityEventAdmin(ReadOnlyAdminMixin, MissingIs404Mixin, admin.ModelAdmin):
    """The security log, read-only, for administrators: entries about people in their subtree."""

    list_display = ("at", "kind", "username", "ip", "method", "path")
    list_filter = ("kind",)
    search_fields = ("username", "ip", "path")
    date_hierarchy = "at"
    readonly_fields = ("at", "kind", "user", "username", "ip", "method", "path", "detail")
    list_select_related = ("user",)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return selectors.visible_security_events(request.user)
