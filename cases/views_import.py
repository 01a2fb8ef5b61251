"""The 12345 dispatch-file import page: upload, check, import, show what happened."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_safe

from . import imports, selectors

TEMPLATE_FILES = {
    "csv": ("text/csv; charset=utf-8", imports.template_csv),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", imports.template_xlsx),
}


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("Dispatch file"),
        help_text=_("CSV (UTF-8 or GBK) or .xlsx, at most 5 MB, with the column headers below."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,text/csv"}),
    )
    dry_run = forms.BooleanField(
        label=_("Only check the file, import nothing"), required=False,
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > imports.MAX_FILE_SIZE:
            raise forms.ValidationError(_("The file is larger than 5 MB."))
        return upload


@require_http_methods(["GET", "POST"])
@login_required
@permission_required("cases.import_cases", raise_exception=True)
def import_cases(request: HttpRequest) -> HttpResponse:
    form = ImportForm(request.POST or None, request.FILES or None)
    result, linkable = None, set()
    if request.method == "POST" and form.is_valid():
        try:
            result = imports.import_file(
                form.cleaned_data["file"], user=request.user, dry_run=form.cleaned_data["dry_run"]
            )
        except imports.ImportFileError as error:
            form.add_error("file", error.message)
        else:
            _report(request, result)
            linkable = _visible_pks(request.user, result)
    return render(
        request,
        "cases/import.html",
        {"form": form, "result": result, "linkable": linkable, "columns": imports.COLUMNS},
    )


def _visible_pks(user, result: imports.ImportResult) -> set[int]:
    """Imported cases the importer may open (a community importer's cases wait at the street)."""
    pks = [row.case.pk for row in result.rows if row.case]
    if not pks:
        return set()
    return set(selectors.visible_cases(user).filter(pk__in=pks).values_list("pk", flat=True))


def _report(request: HttpRequest, result: imports.ImportResult) -> None:
    counts = {"imported": len(result.rows), "skipped": len(result.skipped), "errors": len(result.errors)}
    if result.errors:
        messages.error(request, _("Nothing was imported: %(errors)d problems in the file.") % counts)
    elif result.committed:
        messages.success(
            request, _("%(imported)d cases imported, %(skipped)d already imported before.") % counts
        )
    else:
        messages.info(
            request, _("The file is fine: %(imported)d cases would be imported, %(skipped)d are already in.")
            % counts,
        )


@require_safe
@login_required
@permission_required("cases.import_cases", raise_exception=True)
def import_template(request: HttpRequest, fmt: str) -> HttpResponse:
    content_type, build = TEMPLATE_FILES[fmt]
    response = HttpResponse(build(), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="12345-import-template.{fmt}"'
    return response
