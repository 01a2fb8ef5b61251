import time

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject, CSPMiddleware
from django.conf import settings
from django.core.signals import setting_changed
from django.contrib import messages
from django.contrib.auth import logout
from django.core.exceptions import BadRequest
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from rest_framework.views import APIView

from communities import twofactor
from communities.security import Kind, log_event, request_scope

LAST_SEEN = "portal_last_seen"
LAST_SEEN_RESOLUTION = 60  # seconds: the session is written at most once a minute for this


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


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, with the policy built once per process for a response that takes it
    from the settings alone (no nonce used, no policy of the view's own): every page of the portal.

    Building it from the settings' directives cost more than any other middleware on the
    resident form's POST. Anything else goes to django-csp as before.
    """

    OWN_POLICY = ("_csp_config", "_csp_update", "_csp_replace", "_csp_config_ro", "_csp_update_ro",
                  "_csp_replace_ro", "_csp_exempt", "_csp_exempt_ro")
    _built: dict = {}

    def process_response(self, request, response):
        if settings.DEBUG or getattr(request, "_csp_nonce", None) is not None or any(
            hasattr(response, name) for name in self.OWN_POLICY
        ):
            return super().process_response(request, response)
        if not self._built:
            self._built.update(self._policies(request, response))
        for header, (policy, excluded) in self._built.items():
            if policy and header not in response and not request.path_info.startswith(excluded):
                response[header] = policy
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response

    def _policies(self, request, response) -> dict:
        from csp.utils import build_policy

        policies = {}
        for header, setting, report_only in ((HEADER, "CONTENT_SECURITY_POLICY", False),
                                             (HEADER_REPORT_ONLY, "CONTENT_SECURITY_POLICY_REPORT_ONLY", True)):
            parts = self.get_policy_parts(request=request, response=response, report_only=report_only)
            policy = build_policy(config=parts.config, update=parts.update, replace=parts.replace,
                                  nonce=parts.nonce, report_only=report_only)
            excluded = tuple((getattr(settings, setting, None) or {}).get("EXCLUDE_URL_PREFIXES", None) or ())
            policies[header] = (policy, excluded)
        return policies


def _forget_policies(setting, **kwargs) -> None:
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        ContentSecurityPolicyMiddleware._built.clear()


setting_changed.connect(_forget_policies, dispatch_uid="governance.middleware.csp")


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


def stamp_login(sender, request, user, **kwargs) -> None:
    """Start the idle clock at login (connected to ``user_logged_in``)."""
    if request is not None and hasattr(request, "session"):
        request.session[LAST_SEEN] = int(time.time())


class NulCharacterMiddleware:
    """Answer 400 to a query string holding a NUL character (``%00``) before a page looks it up.

    No browser or person sends one, and PostgreSQL can neither store nor compare it: a page that
    looked the parameter up (a poster's ``?unit=``, a filter) would fail with a server error. Form
    fields need no check (Django's forms refuse NUL with a message), nor do the APIs: they check
    their own arguments and answer in their own formats.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if "%00" not in request.META.get("QUERY_STRING", ""):
            return None
        view_class = getattr(view_func, "cls", None)
        if isinstance(view_class, type) and issubclass(view_class, APIView):
            return None
        raise BadRequest("NUL character in the query string")


class IdleSessionMiddleware:
    """Log a signed-in user out after ``SESSION_IDLE_TIMEOUT`` seconds without a request.

    Staff share office PCs; a session left open on one must not stay usable for a whole shift.
    The last request's time is kept in the session, rewritten at most once a minute so that a
    page costs no session write.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # A browser without a session (a resident on the public pages) has none to expire.
        seen = request.session.get(LAST_SEEN) if request.session.session_key is not None else None
        if seen is not None:
            now = int(time.time())
            if now - seen > settings.SESSION_IDLE_TIMEOUT:
                logout(request)
                messages.info(request, _("You were logged out after a period without activity."))
            elif now - seen >= LAST_SEEN_RESOLUTION:
                request.session[LAST_SEEN] = now
        return self.get_response(request)


class SecurityLogMiddleware:
    """Write refusals to the security log where every page and API view ends: 401, 403, and the
    404 a signed-in user gets for an object outside their scope (the scoping rule answers 404).
    A 404 for an address that matches no page is not a denial and is not logged."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with request_scope(request):  # entries the services write carry the address and path too
            response = self.get_response(request)
        kind = self.denial(request, response.status_code)
        if kind is not None and not getattr(request, "security_logged", False):  # one entry per refusal
            detail = {"status": response.status_code}
            if getattr(request, "csrf_failure_reason", ""):  # set by governance.views.csrf_failure
                detail["csrf"] = request.csrf_failure_reason
            log_event(kind, request=request, detail=detail)
        return response

    @staticmethod
    def denial(request, status: int) -> str | None:
        if status == 401 or (status == 403 and "HTTP_AUTHORIZATION" in request.META and not _signed_in(request)):
            return Kind.AUTH_FAILED if "HTTP_AUTHORIZATION" in request.META else Kind.DENIED
        if status == 403:
            return Kind.DENIED
        if status == 404 and getattr(request, "resolver_match", None) is not None and _signed_in(request):
            return Kind.NOT_FOUND
        return None


def _signed_in(request) -> bool:
    user = getattr(request, "user", None)
    return user is not None and user.is_authenticated


class TwoFactorMiddleware:
    """Before any staff page (the Django admin included): verify the second factor if the account
    has one, choose a new password if an administrator set it, set up a second factor if the role
    requires it (``communities.twofactor``). Public pages, the sign-in and sign-out pages and the
    steps themselves are exempt. The API keeps its tokens (they never carry a session); a session
    that has not finished signing in gets 403 there.

    What is due was decided at sign-in and lives in the session: no query per page.
    """

    PUBLIC_NAMESPACES = {"cases_public", "projects_public"}
    EXEMPT_VIEWS = {"home", "healthz", "login", "logout", "admin:logout", "set_language"}
    STEP_VIEWS = {
        twofactor.VERIFY: "communities:two_factor_verify",
        "password": "communities:password_change",
        twofactor.ENROL: "communities:two_factor_setup",
    }

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        # The page before the user: a resident's page loads no session and no user for this.
        if match is None or match.namespace in self.PUBLIC_NAMESPACES or match.view_name in self.EXEMPT_VIEWS:
            return None
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        step = self.step_due(request, user)
        if step is None or match.view_name == self.STEP_VIEWS[step]:
            return None
        if match.route.startswith(("api/", "open311/")):
            return JsonResponse(
                {"detail": _("Finish signing in (second factor or new password) first."), "code": "sign_in_incomplete"},
                status=403,
            )
        target = reverse(self.STEP_VIEWS[step])
        return redirect(f"{target}?next={request.get_full_path()}" if request.method == "GET" else target)

    @staticmethod
    def step_due(request, user) -> str | None:
        if twofactor.STEP_KEY not in request.session:  # a session from before two-factor sign-in
            twofactor.session_state(request, user)
        step = request.session.get(twofactor.STEP_KEY)
        if step == twofactor.VERIFY and not user.is_verified():
            return twofactor.VERIFY
        if request.session.get(twofactor.PASSWORD_KEY):
            return "password"
        if step == twofactor.ENROL:
            return twofactor.ENROL
        return None
