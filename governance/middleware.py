from django.conf import settings
from django.utils import translation
from django.utils.cache import patch_vary_headers


class PortalLanguageMiddleware:
    """Chinese unless the user picked English with the switch.

    Unlike LocaleMiddleware this ignores Accept-Language: shared workstations on
    government networks often run English-configured browsers, and the portal's
    working language is Chinese. The choice lives in the language cookie that
    Django's ``set_language`` view writes.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.supported = {code for code, _ in settings.LANGUAGES}

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in self.supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        try:
            response = self.get_response(request)
        finally:
            translation.deactivate()
        response.headers.setdefault("Content-Language", language)
        # The same address answers in either language, chosen by cookie: caches must key on it.
        patch_vary_headers(response, ("Cookie",))
        return response


class HealthCheckMiddleware:
    """Answer ``/healthz`` before host validation and the HTTPS redirect.

    Load balancers probe each app server by its IP address over plain HTTP; that host
    is not in ALLOWED_HOSTS and would get a 400 from any later middleware.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info == "/healthz" and request.method in ("GET", "HEAD"):
            from .views import healthz

            return healthz(request)
        return self.get_response(request)
