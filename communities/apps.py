from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommunitiesConfig(AppConfig):
    name = "communities"
    verbose_name = _("Communities and staff")

    def ready(self) -> None:
        from django.contrib.auth import get_user_model
        from django.contrib.auth.signals import user_logged_in

        from . import identity, names, security, twofactor  # noqa: F401 - identity: its signals

        security.connect_lockout_signal()
        names.install(get_user_model())
        user_logged_in.connect(twofactor.on_login, dispatch_uid="portal-two-factor-login")
