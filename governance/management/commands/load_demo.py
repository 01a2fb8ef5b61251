"""``manage.py load_demo``: the Yanshan demo area, its requests and its logins (development only).

It lives in ``governance`` because it loads every app's demo data, and only this app
may read them all. Each app's loader goes through that app's services and is idempotent.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from cases import demo as case_demo
from communities import demo
from governance import coordination_demo, proactive_demo
from governance.api import demo as api_demo
from governance.projects import demo as project_demo
from volunteers import demo as volunteer_demo


class Command(BaseCommand):
    help = (
        "Load the Yanshan demo area (tree, staff, requests, volunteers, whistles, meetings, polls, project list, "
        "themes, home visits). Idempotent."
    )

    def handle(self, *args, **options) -> None:
        if not settings.DEBUG:
            raise CommandError(
                _("load_demo creates accounts with a published password: it refuses to run with DEBUG off.")
            )
        logins = demo.load()
        created = case_demo.load()
        if created:
            self.stderr.write(_("%(count)s demo requests created.") % {"count": created})
        logins += volunteer_demo.load()
        coordination_demo.load()
        project_demo.load()
        proactive_demo.load()
        account = api_demo.load()
        header = (_("username"), _("password"), _("role"), _("unit"))
        for line in demo.format_logins(logins, header):
            self.stdout.write(line)
        self.stderr.write(
            _("API token of the 12345 system account %(user)s: %(token)s")
            % {"user": account.username, "token": account.token}
        )
        self.stderr.write(
            _(
                "Administrators and the superuser sign in with a second factor: add the key %(secret)s to an "
                "authenticator app, or run `make demo-code` for the current code."
            )
            % {"secret": demo.DEMO_TOTP_SECRET}
        )
