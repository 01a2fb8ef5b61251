"""Remove the personal data of volunteers who are gone and quiet longer than the retention period (daily)."""

from cases.management.base import AnonymiseCommand
from volunteers import retention


class Command(AnonymiseCommand):
    help = (
        "Anonymise volunteers who left, were declined, are paused or never decided and for whom nothing has "
        "happened for VOLUNTEER_DATA_RETENTION_DAYS: name, phone, party details, notes and their own login "
        "go; hours and counts stay. Active volunteers are never touched. Idempotent."
    )
    retention = retention
    days_setting = "VOLUNTEER_DATA_RETENTION_DAYS"

    def summary(self, progress, *, before, days, would):
        return (f"{progress.volunteers} volunteers inactive since before {before:%Y-%m-%d} ({days} days) "
                f"{would}anonymised; {progress.logins} login accounts {would}closed.")
