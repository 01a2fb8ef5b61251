"""Import a 12345 dispatch file from the command line (for files too big for the web page)."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from cases import imports


class Command(BaseCommand):
    help = "Import a 12345 dispatch file (CSV or .xlsx) as a staff user; all rows or none."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--user", required=True, help="username of the importing staff user")
        parser.add_argument("--dry-run", action="store_true", help="check the file, import nothing")

    def handle(self, *args, path, user, dry_run, **options):
        importer = get_user_model().objects.filter(username=user, is_active=True).first()
        if importer is None or not importer.has_perm("cases.import_cases"):
            raise CommandError(f"{user!r} is not an active user allowed to import cases.")
        if not path.is_file():
            raise CommandError(f"No file at {path}.")
        with path.open("rb") as handle:
            try:
                result = imports.import_file(
                    File(handle, name=path.name), user=importer, dry_run=dry_run,
                    max_rows=50_000, max_size=100 * 1024 * 1024,
                )
            except imports.ImportFileError as error:
                raise CommandError(error.message) from None
        for error in result.errors:
            self.stderr.write(f"row {error.row} {error.column}: {error.message} ({error.value})")
        if result.errors:
            raise CommandError(f"Nothing imported: {len(result.errors)} problems.")
        verb = "imported" if result.committed else "would be imported"
        self.stdout.write(f"{len(result.rows)} {verb}, {len(result.skipped)} already imported before.")
