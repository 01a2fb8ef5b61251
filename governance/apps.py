from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


# What governance writes on a case's timeline (whistles, meetings, polls, themes, projects, visits).
TIMELINE_LABELS = {
    "whistle_blown": _("Whistle blown"),
    "whistle_reported": _("Department reported"),
    "whistle_progress": _("Summoned party's progress"),
    "whistle_response_rated": _("Department's response rated"),
    "whistle_justification_rated": _("Whistle rated by the department"),
    "meeting_agenda": _("On a meeting's agenda"),
    "meeting_decision": _("Meeting decision"),
    "meeting_action_done": _("Action item done"),
    "poll_opened": _("Consent poll opened"),
    "poll_closed": _("Consent poll closed"),
    "theme_linked": _("Counted towards a monthly theme"),
    "project_linked": _("Linked to a livelihood project"),
    "raised_from_visit": _("Raised from a home visit"),
}


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = _("Governance")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in
        from django.db.models.signals import post_delete, post_save

        from cases import timeline
        from communities.models import Post

        from .coordination import groups, panels
        from .hotspots import panels as hotspot_panels
        from .middleware import stamp_login
        from .projects import panels as project_panels
        from .visits import retention as visit_retention

        timeline.register(TIMELINE_LABELS)
        panels.register_all()
        project_panels.register_all()
        hotspot_panels.register_all()
        visit_retention.register()  # home visits keep and lose volunteers' data with the rest of it
        user_logged_in.connect(stamp_login, dispatch_uid="portal_idle_session_stamp")
        # Keeps the per-department groups (what whistle grants go to) in step with liaison posts.
        post_save.connect(groups.on_post_saved, sender=Post, dispatch_uid="coordination_department_groups")
        post_delete.connect(groups.on_post_deleted, sender=Post, dispatch_uid="coordination_department_groups_del")
