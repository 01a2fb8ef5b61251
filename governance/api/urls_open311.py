"""Open311 GeoReport v2 at /open311/v2/ (see governance.api.open311)."""

from django.urls import re_path

from .open311 import views

app_name = "open311"
FORMAT = r"\.(?P<format>json|xml)$"

urlpatterns = [
    re_path(rf"^discovery{FORMAT}", views.DiscoveryView.as_view(), name="discovery"),
    re_path(rf"^services{FORMAT}", views.ServiceListView.as_view(), name="services"),
    re_path(rf"^services/(?P<service_code>[-a-zA-Z0-9_]+){FORMAT}", views.ServiceDefinitionView.as_view(), name="service"),
    re_path(rf"^requests{FORMAT}", views.RequestListView.as_view(), name="requests"),
    # Any id: an unknown one is the spec's 404 in the asked format (ids are Case.public_id).
    re_path(rf"^requests/(?P<service_request_id>[^/]{{1,64}}?){FORMAT}", views.RequestDetailView.as_view(), name="request"),
    re_path(rf"^tokens/(?P<token>[0-9A-Z]{{4,16}}){FORMAT}", views.TokenView.as_view(), name="token"),
    re_path(r"^(?P<path>.*?)(?:\.(?P<format>json|xml))?$", views.NotFoundView.as_view(), name="not_found"),
]
