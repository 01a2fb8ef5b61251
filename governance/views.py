from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import Resolver404, resolve
from django.utils.cache import add_never_cache_headers
from django.utils.module_loading import import_string
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

# Stable public addresses (see DESIGN, "Stable addresses"); the front page links to each
# once the app serving it is installed, so it never shows a dead link.
PUBLIC_PAGES = {"report": "/report/", "track": "/track/", "progress": "/progress/", "join": "/volunteers/join/"}


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html", {"public_pages": _served(PUBLIC_PAGES)})


@never_cache
@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    """For load balancers: 200 "ok" when this process and its database answer."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # any database failure means "take me out of rotation"
        return HttpResponse("database unavailable", status=503, content_type="text/plain")
    return HttpResponse("ok", content_type="text/plain")


def _served(pages: dict[str, str]) -> dict[str, str]:
    served = {}
    for name, path in pages.items():
        try:
            resolve(path)
        except Resolver404:
            continue
        served[name] = path
    return served


# The public forms residents fill in without an account: refused by the CSRF check, they come
# back filled in (view name → the view module's function that renders them so).
REFILLED_FORMS = {
    "cases_public:report": "cases.views_public.report_not_sent",
    "volunteers:join": "volunteers.views.public.join_not_sent",
}


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """settings.CSRF_FAILURE_VIEW: a form POST whose CSRF check failed, answered in plain words.

    Usually the page was open so long that its token went stale, or the browser refused the
    cookie (some in-app browsers, cleared cookies). Nothing was sent. The public forms of
    ``REFILLED_FORMS`` (a resident's request, a volunteer's registration) come back filled in with
    a fresh token, to send again with one tap; any other form gets a page that says how to try
    again. ``django.security.csrf`` logs the
    failure; the security log records it as a denial (a 403) with the reason, see
    SecurityLogMiddleware. Only a failed token or cookie gets the form back (Django words those
    reasons "CSRF …"; they are checked after the Origin and Referer): a POST from another site
    must not come back ready to send. Any other reason gets the plain page.
    """
    request.csrf_failure_reason = reason
    response = None
    match = getattr(request, "resolver_match", None)
    refill = REFILLED_FORMS.get(match.view_name) if match else None
    if request.method == "POST" and reason.startswith("CSRF ") and refill:
        response = import_string(refill)(request)
    if response is None:
        response = render(request, "403_csrf.html", status=403)
    add_never_cache_headers(response)
    return response
