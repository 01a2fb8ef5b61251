from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VolunteersConfig(AppConfig):
    name = "volunteers"
    verbose_name = _("Volunteer corps")

    def ready(self) -> None:
        from . import panels  # noqa: F401 - registers the case and building page sections
