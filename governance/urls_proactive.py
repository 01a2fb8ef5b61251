"""未呼先应 pages (namespace "proactive"): hotspots, monthly themes, home visits."""

from django.urls import path

from .hotspots import views as hotspots
from .themes import views as themes
from .visits import views as visits

urlpatterns = [
    path("hotspots/", hotspots.index, name="hotspots"),
    path("hotspots/<slug:code>/", hotspots.unit_hotspots, name="hotspots_unit"),
    path("themes/", themes.theme_list, name="themes"),
    path("themes/new/", themes.theme_new, name="theme_new"),
    path("themes/<int:pk>/", themes.theme_detail, name="theme"),
    path("themes/<int:pk>/link/", themes.theme_link, name="theme_link"),
    path("themes/<int:pk>/close/", themes.theme_close, name="theme_close"),
    path("visits/", visits.visit_list, name="visits"),
    path("visits/flag/", visits.need_new, name="need_new"),
    path("visits/<int:pk>/", visits.visit_detail, name="visit"),
    path("visits/<int:pk>/record/", visits.visit_record, name="visit_record"),
    path("visits/<int:pk>/phone/", visits.visit_reveal_phone, name="visit_reveal_phone"),
    path("visits/<int:pk>/case/", visits.visit_raise_case, name="visit_raise_case"),
]
