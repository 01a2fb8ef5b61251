"""``manage.py demo_code``: the current second-factor code of the demo's administrators (development only)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from communities import demo


class Command(BaseCommand):
    help = "Print the current two-factor code of the demo administrators' published key (DEBUG only)."

    def handle(self, *args, **options) -> None:
        if not settings.DEBUG:
            raise CommandError(_("demo_code is for the demo's published key: it refuses to run with DEBUG off."))
        self.stdout.write(demo.demo_totp_code())
