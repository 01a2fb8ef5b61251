"""Tier dashboards under /dashboards/ (namespace ``dashboards``)."""

from django.urls import path

from .dashboards import views

urlpatterns = [
    path("", views.index, name="index"),
    path("<slug:code>/", views.unit_dashboard, name="unit"),
    path("<slug:code>/export.xlsx", views.export, name="export"),
    path("<slug:code>/report/", views.report, name="report"),
]
