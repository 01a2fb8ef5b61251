from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, reverse_lazy

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # First sign-in of an imported staff account: the one-time link sets the password.
    path(
        "accounts/set-password/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="registration/set_password.html", success_url=reverse_lazy("password_set_done"),
        ),
        name="password_reset_confirm",
    ),
    path(
        "accounts/set-password/done/",
        auth_views.PasswordResetCompleteView.as_view(template_name="registration/set_password_done.html"),
        name="password_set_done",
    ),
    path("admin/area/", include(("governance.onboarding.urls", "onboarding"), namespace="onboarding")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("communities.urls")),
    path("", include(("cases.urls_public", "cases_public"), namespace="cases_public")),
    path("cases/", include("cases.urls")),
    path("volunteers/", include("volunteers.urls")),
    path("dashboards/", include(("governance.urls_dashboards", "dashboards"), namespace="dashboards")),
    path("", include(("governance.urls_coordination", "coordination"), namespace="coordination")),
    path("projects/", include(("governance.projects.urls", "projects"), namespace="projects")),
    path("progress/", include(("governance.projects.urls_public", "projects_public"), namespace="projects_public")),
    path("", include(("governance.urls_proactive", "proactive"), namespace="proactive")),
    path("api/", include("governance.api.urls")),
    path("open311/v2/", include("governance.api.urls_open311")),
    path("admin/", admin.site.urls),
]
