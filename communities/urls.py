from django.urls import path

from . import views

app_name = "communities"
urlpatterns = [
    path("workspace/", views.workspace, name="workspace"),
    path("units/<slug:code>/", views.unit_detail, name="unit"),
    path("buildings/<int:pk>/", views.building_detail, name="building"),
]
