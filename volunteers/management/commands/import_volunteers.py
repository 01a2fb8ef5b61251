"""``manage.py import_volunteers roster.xlsx --user NAME``: a big roster, checked and imported as the web page does.

The file is validated whole first; one bad row imports nothing and every problem is listed.
Units must lie under the given user's posts, exactly as for an upload on the roster page.
"""

from django.contrib.auth import get_user_model
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from volunteers import imports


class Command(BaseCommand):
    help = "Import a volunteer roster (CSV or .xlsx) for the units under a staff user's posts. All or nothing."

    def add_arguments(self, parser) -> None:
        parser.add_argument("path")
        parser.add_argument("--user", required=True, help="The staff user the import is made as (scope and history).")
        parser.add_argument("--dry-run", action="store_true", help="Only check the file.")
        parser.add_argument("--max-rows", type=int, default=50000)

    def handle(self, *args, path: str, user: str, dry_run: bool, max_rows: int, **options) -> None:
        account = get_user_model().objects.filter(username=user).first()
        if account is None:
            raise CommandError(_("No user %(name)s.") % {"name": user})
        try:
            with open(path, "rb") as handle:
                upload = File(handle, name=path)
                rows = imports.read_table(upload, max_rows=max_rows, max_size=200 * 1024 * 1024)
        except OSError as error:
            raise CommandError(str(error)) from error
        except imports.ImportFileError as error:
            raise CommandError(error.message) from error
        result = imports.validate(rows, user=account)
        if not result.errors and not dry_run:
            imports.commit(result, by=account)
        for error in result.errors:
            self.stderr.write(f"{error.row}\t{error.column}\t{error.value}\t{error.message}")
        if result.errors:
            raise CommandError(_("Nothing was imported: %(errors)d problems in the file.") % {"errors": len(result.errors)})
        counts = {"imported": len(result.rows), "skipped": len(result.skipped)}
        if result.committed:
            self.stdout.write(_("%(imported)d volunteers imported, %(skipped)d already on a roster.") % counts)
        else:
            self.stdout.write(
                _("The file is fine: %(imported)d volunteers would be imported, %(skipped)d are already on a roster.")
                % counts
            )
