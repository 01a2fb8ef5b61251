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
