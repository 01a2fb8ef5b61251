"""Remind handlers of deadlines within two hours and escalate overdue cases. Safe to run often."""

from django.core.management.base import BaseCommand

from cases import reminders


class Command(BaseCommand):
    help = "Send deadline reminders and escalate overdue cases to the tier above (idempotent)."

    def handle(self, *args, **options):
        run = reminders.send_reminders()
        self.stdout.write(
            f"{run.contact_due} contact and {run.resolve_due} resolution reminders, "
            f"{run.escalated} cases escalated, {run.notifications} notifications."
        )
