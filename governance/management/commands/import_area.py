"""Load an area from its workbook: ``import_area FILE.xlsx [--dry-run]``, or ``--template OUT.xlsx``."""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from communities.tabular import ImportFileError
from governance.onboarding import services, workbook


class Command(BaseCommand):
    help = "Import an area workbook (单位, 楼栋, 单元, 住户, 部门, 共建单位, 岗位): all rows or none."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, nargs="?", help="the workbook (.xlsx)")
        parser.add_argument("--dry-run", action="store_true", help="check the file and report, write nothing")
        parser.add_argument("--template", type=Path, metavar="OUT", help="write the empty workbook to OUT and stop")
        parser.add_argument("--user", help="import as this administrator (limited to their subtree); default: all")
        parser.add_argument("--base-url", default="", help="prefix of the printed set-password links, e.g. https://portal.example")

    def handle(self, *args, path, dry_run, template, user, base_url, **options):
        if template:
            workbook.template_xlsx(template)
            self.stdout.write(f"Template written to {template}.")
            return
        if path is None or not path.is_file():
            raise CommandError(f"No file at {path}.")
        importer = None
        if user:
            importer = get_user_model().objects.filter(username=user, is_active=True).first()
            if importer is None or not importer.has_perm("communities.change_unit"):
                raise CommandError(f"{user!r} is not an active administrator.")
        started = time.monotonic()
        progress = _Progress(self.stderr, started)
        try:
            report = services.import_area(
                str(path), user=importer, dry_run=dry_run, progress=progress, link_base=base_url.rstrip("/")
            )
        except ImportFileError as error:
            raise CommandError(error.message) from None
        progress.done()
        elapsed = time.monotonic() - started
        for sheet, counts in report.counts.items():
            self.stdout.write(
                f"{sheet}: {counts.rows} rows, {counts.created} new, {counts.updated} changed, "
                f"{counts.unchanged} unchanged"
            )
        for error in report.errors:
            self.stderr.write(f"{error.sheet} row {error.row} {error.column}: {error.message} ({error.value})")
        if report.error_count > len(report.errors):
            self.stderr.write(f"… and {report.error_count - len(report.errors)} more problems.")
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        self.stdout.write(f"time {elapsed:.1f} s, peak memory {peak_mb:.0f} MB")
        if not report.ok:
            raise CommandError(f"Nothing imported: {report.error_count} problems.")
        if dry_run:
            self.stdout.write("Dry run: nothing was written.")
            return
        for account in report.accounts:
            self.stdout.write(f"new account {account.username} ({account.name}): set a password at {account.link}")


class _Progress:
    """One line on the terminal, rewritten in place: sheet, rows so far, seconds."""

    def __init__(self, stream, started: float) -> None:
        self.stream, self.started, self.tty = stream, started, sys.stderr.isatty()
        self.last = 0.0

    def __call__(self, sheet: str, count: int) -> None:
        now = time.monotonic()
        if now - self.last < 0.5:
            return
        self.last = now
        line = f"{sheet} {count:,} rows · {now - self.started:.0f} s"
        if self.tty:
            self.stream.write(f"\r{line}\033[K", ending="")
            self.stream.flush()
        else:
            self.stream.write(line)

    def done(self) -> None:
        if self.tty:
            self.stream.write("")
