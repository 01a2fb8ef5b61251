"""Remove the personal data of volunteers who are gone and quiet longer than the retention period (daily)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from volunteers import retention


class Command(BaseCommand):
    help = (
        "Anonymise volunteers who left, were declined, are paused or never decided and for whom nothing has "
        "happened for VOLUNTEER_DATA_RETENTION_DAYS: name, phone, party details, notes and their own login "
        "go; hours and counts stay. Active volunteers are never touched. Idempotent."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="only count what would be anonymised")
        parser.add_argument("--batch-size", type=int, default=retention.BATCH_SIZE)

    def handle(self, *args, dry_run=False, batch_size=retention.BATCH_SIZE, **options):
        if batch_size < 1:
            raise CommandError(f"--batch-size must be at least 1, not {batch_size}.")
        before = retention.cutoff()
        progress = retention.anonymise_due(before=before, batch_size=batch_size, dry_run=dry_run)
        days = settings.VOLUNTEER_DATA_RETENTION_DAYS
        would = "would be " if dry_run else ""
        self.stdout.write(
            f"{progress.volunteers} volunteers inactive since before {before:%Y-%m-%d} ({days} days) {would}anonymised; "
            f"{progress.logins} login accounts {would}closed."
        )
