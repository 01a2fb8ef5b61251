"""The portal's addresses and the bare view the load is compared with (loadtest settings only)."""

from django.urls import include, path

from .views import bare

urlpatterns = [
    path("bench/bare/", bare, name="bench-bare"),
    path("", include("governance.urls")),
]
