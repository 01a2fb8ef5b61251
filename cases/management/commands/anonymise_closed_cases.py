"""Remove residents' personal data from cases closed longer ago than the retention period (daily)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from cases import retention


class Command(BaseCommand):
    help = (
        "Anonymise cases closed more than RESIDENT_DATA_RETENTION_DAYS ago: the caller's name, phone, "
        "address, description, contact notes, comments and photos go; statistics stay. Idempotent."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="only count what would be anonymised")
        parser.add_argument("--batch-size", type=int, default=retention.BATCH_SIZE)

    def handle(self, *args, dry_run=False, batch_size=retention.BATCH_SIZE, **options):
        if batch_size < 1:
            raise CommandError(f"--batch-size must be at least 1, not {batch_size}.")
        before = retention.cutoff()
        progress = retention.anonymise_due(before=before, batch_size=batch_size, dry_run=dry_run)
        days = settings.RESIDENT_DATA_RETENTION_DAYS
        verb = "would be anonymised" if dry_run else "anonymised"
        self.stdout.write(
            f"{progress.cases} cases closed before {before:%Y-%m-%d} ({days} days) {verb}; "
            f"{progress.photos} photos {'would be ' if dry_run else ''}removed."
        )
