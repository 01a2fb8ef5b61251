from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = _("Resident requests")

    def ready(self) -> None:
        from . import reference  # noqa: F401  (connects the signals that refresh the form's shared lists)
        from . import timeline  # noqa: F401  (registers the labels of the actions cases writes)
