"""Freeze a closed month's 三率 into MonthlyScore (default: last month). Safe to run daily."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from cases import rates
from cases.locks import run_alone


class Command(BaseCommand):
    help = "Freeze the rates of a closed month (default: last month); a frozen month is left as it is."

    def add_arguments(self, parser):
        parser.add_argument("--month", help="YYYY-MM, a month that is over (default: last month)")

    def handle(self, *args, month=None, **options):
        try:
            target = rates.parse_month(month) if month else rates.previous_month(rates.current_month())
        except ValueError:
            raise CommandError(f"--month must look like 2026-10, not {month!r}.") from None
        label = rates.month_label(target)
        with run_alone("freeze_scores") as mine:
            if not mine:
                self.stdout.write("freeze_scores is already running on another host; nothing done here.")
                return
            self._freeze(target, label)

    def _freeze(self, target, label):
        if rates.is_frozen(target):
            self.stdout.write(f"{label} is already frozen; nothing changed.")
            return
        try:
            rows = rates.freeze_month(month=target)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stdout.write(self.style.SUCCESS(f"{label} frozen: {len(rows)} unit scores written."))
