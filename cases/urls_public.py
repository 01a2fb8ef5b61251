"""Public pages at the site root (namespace ``cases_public``): stable addresses, see DESIGN.md."""

from django.urls import path

from . import views_public

urlpatterns = [
    path("report/", views_public.report, name="report"),
    path("report/places/", views_public.places, name="places"),
    path("report/done/<str:code>/", views_public.done, name="done"),
    path("track/", views_public.track, name="track"),
    path("track/<str:code>/", views_public.status, name="status"),
    path("track/<str:code>/information/", views_public.add_information, name="add_information"),
    path("track/<str:code>/rating/", views_public.rate, name="rate"),
    path("track/<str:code>/photos/<int:pk>/", views_public.resident_photo, name="photo"),
    path("posters/<slug:code>.svg", views_public.poster_svg, name="poster_svg"),
    path("posters/<slug:code>/", views_public.poster, name="poster"),
]
