"""Staff pages of the request lifecycle, under /cases/."""

from django.urls import include, path

app_name = "cases"
urlpatterns = [
    path("", include("cases.urls_staff")),
    path("import/", include("cases.urls_import")),
]
