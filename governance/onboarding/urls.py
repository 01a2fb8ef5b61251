from django.contrib import admin
from django.urls import path

from . import views

urlpatterns = [
    path("import/", admin.site.admin_view(views.import_area), name="import"),
    path("template/", admin.site.admin_view(views.template), name="template"),
    path("export/", admin.site.admin_view(views.export), name="export"),
]
