"""``manage.py load_demo``: the Yanshan demo area, its requests and its logins (development only).

It lives in ``governance`` because it loads every app's demo data, and only this app
may read them all.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from cases import demo as case_demo
from communities import demo


class Command(BaseCommand):
    help = "Load the Yanshan demo area (tree, buildings, departments, partners, staff, requests). Idempotent."

    def handle(self, *args, **options) -> None:
        if not settings.DEBUG:
            raise CommandError(
                _("load_demo creates accounts with a published password: it refuses to run with DEBUG off.")
            )
        logins = demo.load()
        created = case_demo.load()
        if created:
            self.stderr.write(_("%(count)s demo requests created.") % {"count": created})
        header = (_("username"), _("password"), _("role"), _("unit"))
        for line in demo.format_logins(logins, header):
            self.stdout.write(line)
