from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = _("Governance")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in
        from django.db.models.signals import post_delete, post_save

        from communities.models import Post

        from .coordination import groups, panels
        from .hotspots import panels as hotspot_panels
        from .middleware import stamp_login
        from .projects import panels as project_panels
        from .visits import retention as visit_retention

        panels.register_all()
        project_panels.register_all()
        hotspot_panels.register_all()
        visit_retention.register()  # home visits keep and lose volunteers' data with the rest of it
        user_logged_in.connect(stamp_login, dispatch_uid="portal_idle_session_stamp")
        # Keeps the per-department groups (what whistle grants go to) in step with liaison posts.
        post_save.connect(groups.on_post_saved, sender=Post, dispatch_uid="coordination_department_groups")
        post_delete.connect(groups.on_post_deleted, sender=Post, dispatch_uid="coordination_department_groups_del")
