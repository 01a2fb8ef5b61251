"""Staff pages of the request lifecycle under /cases/ (namespace ``cases``)."""

from django.urls import path, re_path, register_converter

from .views import case, intake, notifications, queues
from .views.actions import ACTION_LIST


class CaseCodeConverter:
    """Tracking codes are upper-case letters and digits, so /cases/import/ and the like never match."""

    regex = "[0-9A-Z]{4,16}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(CaseCodeConverter, "case_code")

urlpatterns = [
    path("", queues.queue, name="queue"),
    re_path(r"^export\.(?P<fmt>csv|xlsx)$", queues.export, name="export"),
    path("new/", intake.intake, name="new"),
    path("notifications/", notifications.notifications, name="notifications"),
    path("notifications/read/", notifications.mark_read, name="notifications_read_all"),
    path("notifications/<int:pk>/read/", notifications.mark_read, name="notification_read"),
    path("<case_code:code>/", case.detail, name="detail"),
    path("<case_code:code>/photos/<int:pk>/", case.photo, name="photo"),
    *[
        path(
            f"<case_code:code>/{action.name.replace('_', '-')}/", case.case_action,
            {"action": action.name}, name=action.name,
        )
        for action in ACTION_LIST
    ],
]
