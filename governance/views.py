from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import Resolver404, resolve
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
