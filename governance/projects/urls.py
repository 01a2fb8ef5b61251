"""Staff pages of the livelihood project list (namespace "projects")."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.project_list, name="list"),
    path("new/", views.project_new, name="new"),
    path("<int:pk>/", views.project_detail, name="detail"),
    path("<int:pk>/edit/", views.project_edit, name="edit"),
    path("<int:parent_pk>/new-sub-item/", views.project_new, name="new_sub_item"),
    path("<int:pk>/<slug:action>/", views.project_action, name="action"),
    path("updates/<int:pk>/photo/", views.update_photo, name="photo"),
]
