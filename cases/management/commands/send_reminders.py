"""Remind handlers of deadlines within two hours and escalate overdue cases. Safe to run often."""

from django.core.management.base import BaseCommand

from cases import reminders
from cases.locks import run_alone


class Command(BaseCommand):
    help = "Send deadline reminders and escalate overdue cases to the tier above (idempotent)."

    def handle(self, *args, **options):
        with run_alone("send_reminders") as mine:
            if not mine:
                self.stdout.write("send_reminders is already running on another host; nothing done here.")
                return
            run = reminders.send_reminders()
        self.stdout.write(
            f"{run.contact_due} contact and {run.resolve_due} resolution reminders, "
            f"{run.escalated} cases escalated, {run.notifications} notifications."
        )
