from django.urls import path

from . import account_views, views

app_name = "communities"
urlpatterns = [
    path("workspace/", views.workspace, name="workspace"),
    path("units/<slug:code>/", views.unit_detail, name="unit"),
    path("buildings/<int:pk>/", views.building_detail, name="building"),
    path("account/", account_views.account, name="account"),
    path("account/two-factor/", account_views.setup, name="two_factor_setup"),
    path("account/two-factor/verify/", account_views.verify, name="two_factor_verify"),
    path("account/two-factor/recovery-codes/", account_views.recovery_codes, name="two_factor_recovery_codes"),
    path("account/password/", account_views.password_change, name="password_change"),
]
