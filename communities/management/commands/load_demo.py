"""``manage.py load_demo``: the Yanshan demo area and its logins (development only)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from communities import demo


class Command(BaseCommand):
    help = "Load the Yanshan demo area (tier tree, buildings, departments, partners, staff). Idempotent."

    def handle(self, *args, **options) -> None:
        if not settings.DEBUG:
            raise CommandError(
                _("load_demo creates accounts with a published password: it refuses to run with DEBUG off.")
            )
        logins = demo.load()
        header = (_("username"), _("password"), _("role"), _("unit"))
        for line in demo.format_logins(logins, header):
            self.stdout.write(line)
