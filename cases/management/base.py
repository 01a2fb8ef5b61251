"""What the daily anonymise_* commands share: --dry-run, --batch-size and one line of counts."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class AnonymiseCommand(BaseCommand):
    """``retention`` is a module with ``BATCH_SIZE``, ``cutoff()`` and ``anonymise_due()``;
    ``days_setting`` names the retention period's setting; ``summary`` words the counts."""

    retention = None
    days_setting = ""

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="only count what would be anonymised")
        parser.add_argument("--batch-size", type=int, default=self.retention.BATCH_SIZE)

    def handle(self, *args, dry_run=False, batch_size=None, **options):
        if batch_size < 1:
            raise CommandError(f"--batch-size must be at least 1, not {batch_size}.")
        before = self.retention.cutoff()
        progress = self.retention.anonymise_due(before=before, batch_size=batch_size, dry_run=dry_run)
        days = getattr(settings, self.days_setting)
        self.stdout.write(self.summary(progress, before=before, days=days, would="would be " if dry_run else ""))

    def summary(self, progress, *, before, days: int, would: str) -> str:
        raise NotImplementedError
