from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommunitiesConfig(AppConfig):
    name = "communities"
    verbose_name = _("Communities and staff")

    def ready(self) -> None:
        from . import security

        security.connect_lockout_signal()
