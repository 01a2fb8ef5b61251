"""The 12345 dispatch-file import, under /cases/import/ (namespace ``cases``)."""

from django.urls import path, re_path

from . import views_import

urlpatterns = [
    path("", views_import.import_cases, name="import"),
    re_path(r"^template\.(?P<fmt>csv|xlsx)$", views_import.import_template, name="import_template"),
]
