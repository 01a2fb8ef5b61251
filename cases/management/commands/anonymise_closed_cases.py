"""Remove residents' personal data from cases closed longer ago than the retention period (daily)."""

from cases import retention
from cases.management.base import AnonymiseCommand


class Command(AnonymiseCommand):
    help = (
        "Anonymise cases closed more than RESIDENT_DATA_RETENTION_DAYS ago: the caller's name, phone, "
        "address, description, contact notes, comments and photos go; statistics stay. Idempotent."
    )
    retention = retention
    days_setting = "RESIDENT_DATA_RETENTION_DAYS"

    def summary(self, progress, *, before, days, would):
        return (f"{progress.cases} cases closed before {before:%Y-%m-%d} ({days} days) {would}anonymised; "
                f"{progress.photos} photos {would}removed.")
