"""/api/v1/ (the REST API), /api/schema/ (its OpenAPI 3 schema), /api/docs/ (Swagger UI, local assets)."""

from django.urls import include, path, re_path
from django.views.decorators.csrf import ensure_csrf_cookie
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from . import coordination, corps, projects, themes, views

app_name = "api"


class Router(DefaultRouter):
    include_format_suffixes = False


router = Router()
router.register("cases", views.CaseViewSet, basename="case")
router.register("categories", views.CategoryViewSet, basename="category")
router.register("units", views.UnitViewSet, basename="unit")
router.register("buildings", views.BuildingViewSet, basename="building")
router.register("monthly-scores", views.MonthlyScoreViewSet, basename="monthly-score")
router.register("volunteers", corps.VolunteerViewSet, basename="volunteer")
router.register("activities", corps.ActivityViewSet, basename="activity")
router.register("meetings", coordination.MeetingViewSet, basename="meeting")
router.register("polls", coordination.PollViewSet, basename="poll")
router.register("projects", projects.ProjectViewSet, basename="project")
router.register("themes", themes.ThemeViewSet, basename="theme")

urlpatterns = [
    path("v1/", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The cookie lets "Try it out" in a signed-in browser send the CSRF token (session auth).
    path("docs/", ensure_csrf_cookie(SpectacularSwaggerSplitView.as_view(url_name="api:schema")), name="docs"),
    # Any other address under /api/ answers in JSON too, not with the site's HTML page.
    re_path(r"^[\s\S]*$", views.not_found),
]
