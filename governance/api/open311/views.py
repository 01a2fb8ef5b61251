"""The GeoReport v2 methods. Errors are the spec's list of ``{code, description}`` with the
HTTP status the spec names (404 unknown, 403 bad api_key, 400 anything else)."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.authtoken.models import Token
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from cases import services
from cases.models import Case, Category
from communities.models import Unit
from communities.selectors import visible_units

from . import present
from .forms import RequestForm
from .renderers import Open311JSONRenderer, Open311XMLRenderer

MAX_REQUESTS = 1000
PUBLIC_ID = re.compile(r"[0-9a-f]{16}")  # Case.public_id
MAX_SPAN = timedelta(days=90)
BAD_KEY = _("Invalid api_key received -- can't proceed with create_request.")
NUL_REFUSED = _("Arguments may not contain the NUL character.")


class Open311Error(Exception):
    def __init__(self, status_code: int, *descriptions) -> None:
        super().__init__(*descriptions)
        self.status_code = status_code
        self.descriptions = [str(d) for d in descriptions]


def _not_found(what: str, value) -> Open311Error:
    return Open311Error(404, _("%(what)s %(value)s was not found.") % {"what": what, "value": value})


class Open311View(APIView):
    authentication_classes: list = []  # the api_key argument, not cookies: no session, no CSRF
    permission_classes = [AllowAny]
    renderer_classes = [Open311JSONRenderer, Open311XMLRenderer]
    parser_classes = [FormParser, MultiPartParser]
    throttle_scope = "open311"
    schema = None  # not part of /api/schema/: the GeoReport v2 spec documents it
    xml_root = "service_requests"

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        # PostgreSQL text cannot hold NUL: refused here rather than failing in a query.
        if any("\x00" in text for text in _texts(request, kwargs)):
            raise Open311Error(400, NUL_REFUSED)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if not hasattr(response, "xml_root"):
            response.xml_root = self.xml_root
        return response

    def handle_exception(self, exc):
        code, descriptions, headers = _error(exc)
        response = Response([{"code": code, "description": d} for d in descriptions], status=code, headers=headers)
        response.xml_root = "errors"
        return response

    def area(self) -> Unit | None:
        """The jurisdiction: an area work committee by its code, or everywhere when not given."""
        code = (self.request.query_params.get("jurisdiction_id") or self.request.data.get("jurisdiction_id") or "").strip()
        if not code:
            return None
        area = Unit.objects.filter(code=code, parent__isnull=True).first()
        if area is None:
            raise _not_found("jurisdiction_id", code)
        return area

    def within(self, queryset: QuerySet, field: str) -> QuerySet:
        area = self.area()
        return queryset if area is None else queryset.filter(**{f"{field}__startswith": area.path})


def _texts(request, kwargs: dict):
    """Every name and value the client sent: the address's parts, the query string, the form."""
    yield from (value for value in kwargs.values() if isinstance(value, str))
    for params in (request.query_params, request.data):
        for name, values in (params.lists() if hasattr(params, "lists") else params.items()):
            yield name
            yield from (value for value in values if isinstance(value, str))


def _error(exc) -> tuple[int, list[str], dict]:
    if isinstance(exc, Open311Error):
        return exc.status_code, exc.descriptions, {}
    if isinstance(exc, exceptions.Throttled):
        return 429, [str(exc.detail)], {"Retry-After": str(int(exc.wait or 1))}
    if isinstance(exc, exceptions.MethodNotAllowed):
        return 405, [str(exc.detail)], {}
    if isinstance(exc, (exceptions.NotFound, exceptions.NotAcceptable)):
        return 404, [str(exc.detail)], {}
    if isinstance(exc, exceptions.APIException):
        return 400, [str(exc.detail)], {}
    raise exc


class DiscoveryView(Open311View):
    xml_root = "discovery"

    def get(self, request, format=None):
        url = request.build_absolute_uri(reverse("open311:services", kwargs={"format": "json"}))
        return Response({
            "changeset": "2026-01-01T00:00:00+08:00",
            "contact": "",
            "key_service": str(_("API keys are the tokens of system accounts, issued by the portal's administrators.")),
            "endpoints": [{
                "specification": present.SPEC_URL,
                "url": url.rsplit("/", 1)[0],
                "changeset": "2026-01-01T00:00:00+08:00",
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }],
        })


class ServiceListView(Open311View):
    xml_root = "services"

    def get(self, request, format=None):
        self.area()
        return Response([present.service(c) for c in present.services(Category.objects.all())])


class ServiceDefinitionView(Open311View):
    xml_root = "service_definition"

    def get(self, request, service_code: str, format=None):
        self.area()
        return Response(present.definition(_service(service_code)))


def _service(code: str) -> Category:
    category = Category.objects.select_related("parent").filter(code=code).first()
    if category is None or not present.is_service(category):
        raise _not_found("service_code", code)
    return category


class RequestListView(Open311View):
    def get(self, request, format=None):
        cases = self.within(present.public_requests(), "unit_path")
        cases = _filtered(cases, request.query_params)
        return Response([present.request(case) for case in cases[:MAX_REQUESTS]])

    def post(self, request, format=None):
        user = _api_user(request.data.get("api_key"))
        area = self.area()
        if not (request.data.get("service_code") or "").strip():
            raise Open311Error(400, _("service_code was not provided."))
        category = _service(request.data["service_code"].strip())
        units = visible_units(user)
        form = RequestForm(request.data, units=units if area is None else units.filter(path__startswith=area.path))
        if not form.is_valid():
            raise Open311Error(400, *form.messages())
        try:
            case = services.intake(category=category, by=user, **form.intake_fields())
        except ValidationError as error:
            raise Open311Error(400, *error.messages) from None
        notice = _("Registered with tracking code %(code)s; it waits at %(unit)s for dispatch.") % {
            "code": case.code, "unit": case.unit.name,
        }
        body = [{"service_request_id": case.public_id, "service_notice": str(notice),
                 "account_id": form.cleaned_data["account_id"] or None}]
        return Response(body, status=status.HTTP_201_CREATED)


def _api_user(key):
    """The system account whose API token is ``api_key``; it must be allowed to register requests."""
    token = Token.objects.select_related("user").filter(key=str(key or "")[:40]).first() if key else None
    user = token.user if token else None
    if user is None or not user.is_active or not services.may_take_in(user):
        raise Open311Error(403, BAD_KEY)
    return user


def _filtered(cases: QuerySet[Case], params) -> QuerySet[Case]:
    ids = _listed(params, "service_request_id")
    if ids:
        return cases.filter(public_id__in=[i for i in ids if PUBLIC_ID.fullmatch(i)])
    codes = _listed(params, "service_code")
    if codes:
        cases = cases.filter(category__code__in=codes)
    statuses = set(_listed(params, "status"))
    if statuses - {"open", "closed"}:
        raise Open311Error(400, _("status must be open or closed (or both, separated by a comma)."))
    if statuses == {"open"}:
        cases = cases.exclude(status__in=Case.FINISHED)
    elif statuses == {"closed"}:
        cases = cases.filter(status__in=Case.FINISHED)
    start, end = _span(params)
    return cases.filter(received_at__gte=start, received_at__lte=end)


def _listed(params, name: str) -> list[str]:
    return [part.strip() for part in (params.get(name) or "").split(",") if part.strip()]


def _span(params) -> tuple[datetime, datetime]:
    """start_date and end_date: 90 days at most, the latest 90 days when neither is given."""
    start, end = _moment(params, "start_date"), _moment(params, "end_date")
    if start is None and end is None:
        end = timezone.now()
    if start is None:
        start = end - MAX_SPAN
    if end is None:
        end = start + MAX_SPAN
    if end < start:
        raise Open311Error(400, _("end_date is before start_date."))
    if end - start > MAX_SPAN:
        raise Open311Error(400, _("start_date and end_date may not span more than 90 days."))
    return start, end


def _moment(params, name: str) -> datetime | None:
    text = (params.get(name) or "").strip()
    if not text:
        return None
    try:
        moment = parse_datetime(text)
        if moment is None and (day := parse_date(text)) is not None:
            moment = datetime.combine(day, time.min)
    except ValueError:
        moment = None
    if moment is None or not 1900 <= moment.year <= 2999:
        raise Open311Error(400, _("%(name)s must be a W3C date and time, e.g. 2026-10-01T00:00:00+08:00.") % {"name": name})
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


class RequestDetailView(Open311View):
    def get(self, request, service_request_id: str, format=None):
        case = None
        if PUBLIC_ID.fullmatch(service_request_id):
            case = self.within(present.public_requests(), "unit_path").filter(public_id=service_request_id).first()
        if case is None:
            raise _not_found("service_request_id", service_request_id)
        return Response([present.request(case)])


class TokenView(Open311View):
    def get(self, request, token: str, format=None):
        case = self.within(Case.objects.exclude(kind=Case.Kind.REPORT), "unit_path").filter(code=token).first()
        if case is None:
            raise _not_found("token", token)
        return Response([{"service_request_id": case.public_id, "token": case.code}])


class NotFoundView(Open311View):
    """Any other address under /open311/v2/: the spec's error list, not an HTML page."""

    xml_root = "errors"

    def get(self, request, path: str = "", format=None):
        raise Open311Error(404, _("There is no Open311 method at %(path)s.") % {"path": request.path})

    post = get
