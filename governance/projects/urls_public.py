"""Residents' progress pages (namespace "projects_public"): stable addresses for notices and QR codes."""

from django.urls import path

from . import views_public

urlpatterns = [
    path("", views_public.choose, name="choose"),
    path("photos/<int:pk>/", views_public.photo, name="photo"),
    path("<slug:code>/", views_public.community, name="community"),
    path("<slug:code>/<int:pk>/", views_public.item, name="item"),
]
