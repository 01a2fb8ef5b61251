"""The portal's addresses and the references the form's load is compared with (loadtest settings only)."""

from django.urls import include, path

from .views import accept_only, bare

urlpatterns = [
    path("bench/bare/", bare, name="bench-bare"),
    path("bench/accept-only/", accept_only, name="bench-accept-only"),
    path("", include("governance.urls")),
]
