from django.conf import settings
from django.utils import translation


class PortalLanguageMiddleware:
    """Chinese unless the user picked English with the switch.

    Unlike LocaleMiddleware this ignores Accept-Language: shared workstations on
    government networks often run English-configured browsers, and the portal's
    working language is Chinese.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.supported = {code for code, _ in settings.LANGUAGES}

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in self.supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        translation.deactivate()
        return response
