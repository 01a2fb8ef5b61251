"""Admin pages: upload an area workbook, preview it (a dry run), import it; download the template;
export a subtree. Scoped to the administrator's subtree by the import itself."""

from __future__ import annotations

import secrets
import tempfile
from pathlib import Path

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from communities.selectors import visible_units
from communities.tabular import ImportFileError

from . import services, workbook

MAX_UPLOAD = 50 * 1024 * 1024
SESSION_KEY = "area_import_upload"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _upload_dir() -> Path:
    # Between the preview and the confirmation the file waits here, named by a random token held
    # only in the administrator's session; it is deleted by the import (or the next upload).
    folder = Path(tempfile.gettempdir()) / "area-imports"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


class UploadForm(forms.Form):
    file = forms.FileField(label=_("Area workbook (.xlsx)"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD:
            raise forms.ValidationError(_("The file is larger than 50 MB."))
        if not upload.name.lower().endswith(".xlsx"):
            raise forms.ValidationError(_("Upload the workbook as an .xlsx file."))
        return upload


class ExportForm(forms.Form):
    unit = forms.ModelChoiceField(label=_("Unit"), queryset=None)
    reveal = forms.BooleanField(label=_("Full phone numbers (logged)"), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = visible_units(user).exclude(level="grid").order_by("path")


def _check(request: HttpRequest) -> None:
    if not request.user.has_perm("communities.change_unit"):
        raise PermissionDenied


def _context(request: HttpRequest, **extra) -> dict:
    return {**admin.site.each_context(request), "title": _("Import an area"), **extra}


def _stored(request: HttpRequest) -> Path | None:
    token = request.session.get(SESSION_KEY, "")
    if not token or not token.isalnum():
        return None
    path = _upload_dir() / f"{token}.xlsx"
    return path if path.is_file() else None


def _forget(request: HttpRequest) -> None:
    path = _stored(request)
    if path is not None:
        path.unlink(missing_ok=True)
    request.session.pop(SESSION_KEY, None)


def import_area(request: HttpRequest) -> HttpResponse:
    _check(request)
    form, report, confirmed, file_error = UploadForm(), None, False, ""
    if request.method == "POST" and "confirm" in request.POST:
        path = _stored(request)
        if path is None:
            file_error = _("The previewed file is gone: upload it again.")
        else:
            try:
                report = services.import_area(str(path), user=request.user,
                                              link_base=request.build_absolute_uri("/").rstrip("/"))
            except ImportFileError as error:
                file_error = error.message
            confirmed = True
            _forget(request)
    elif request.method == "POST":
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            _forget(request)
            token = secrets.token_hex(16)
            path = _upload_dir() / f"{token}.xlsx"
            with path.open("wb") as target:
                for chunk in form.cleaned_data["file"].chunks():
                    target.write(chunk)
            try:
                report = services.import_area(str(path), user=request.user, dry_run=True)
            except ImportFileError as error:
                file_error = error.message
            if report is not None and report.ok:
                request.session[SESSION_KEY] = token
            else:
                path.unlink(missing_ok=True)
    return render(request, "admin/onboarding/import.html", _context(
        request, form=form, report=report, confirmed=confirmed, file_error=file_error,
        export_form=ExportForm(user=request.user),
    ))


def template(request: HttpRequest) -> HttpResponse:
    _check(request)
    with tempfile.TemporaryFile() as buffer:
        workbook.template_xlsx(buffer)
        buffer.seek(0)
        data = buffer.read()
    response = HttpResponse(data, content_type=XLSX)
    response["Content-Disposition"] = 'attachment; filename="area-template.xlsx"'
    return response


def export(request: HttpRequest) -> HttpResponse:
    _check(request)
    form = ExportForm(request.GET or None, user=request.user)
    if form.is_bound and "unit" in form.errors and request.GET.get("unit"):
        raise Http404  # a unit outside the subtree, as everywhere else
    if not form.is_valid():
        return render(request, "admin/onboarding/import.html", _context(
            request, form=UploadForm(), export_form=form, report=None,
        ))
    unit = form.cleaned_data["unit"]
    buffer = tempfile.TemporaryFile()
    workbook.export_xlsx(buffer, unit=unit, user=request.user, reveal=form.cleaned_data["reveal"])
    buffer.seek(0)
    return FileResponse(buffer, as_attachment=True, filename=f"area-{unit.code}.xlsx", content_type=XLSX)
