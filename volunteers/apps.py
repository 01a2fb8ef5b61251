from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VolunteersConfig(AppConfig):
    name = "volunteers"
    verbose_name = _("Volunteer corps")

    def ready(self) -> None:
        from cases import tallies as case_tallies
        from cases import timeline

        from . import panels  # noqa: F401 - registers the case and building page sections
        from . import tallies

        case_tallies.register("volunteer", tallies.rebuild, tallies.differences)

        timeline.register({
            "volunteer_task": _("Task handed to a volunteer"),
            "volunteer_task_withdrawn": _("Volunteer task withdrawn"),
            "volunteer_report": _("Volunteer's report"),
            "from_suggestion": _("Registered from a volunteer's suggestion"),
        })
