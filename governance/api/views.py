"""The /api/v1/ endpoints. Thin: look up through the scoping selectors, validate, call one
service, answer. Another unit's object is 404; a role without the permission is 403."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action, api_view, authentication_classes, permission_classes
from rest_framework.exceptions import NotFound
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response

from cases import rates, selectors, services
from cases.actions import ACTION_LIST, CaseAction
from cases.models import Case, Category, MonthlyScore
from communities.selectors import scope, visible_buildings, visible_units

from . import filters
from .actions import INPUTS, PhoneSerializer
from .errors import Conflict
from .intake import CaseCreateSerializer
from .permissions import MayTakeIn, RolePermission
from .serializers import (
    BuildingSerializer,
    CaseDetailSerializer,
    CaseSerializer,
    CategorySerializer,
    MonthlyScoreSerializer,
    UnitScoresSerializer,
    UnitSerializer,
)

NOT_ALLOWED = _("Your role does not allow you to do that.")
CASE_CODE = "[0-9A-Z]{4,16}"
UNIT_CODE = "[a-z0-9][a-z0-9-]*"


class ApiViewSet(viewsets.GenericViewSet):
    throttle_scope = "api"
    permission_classes = [IsAuthenticated, RolePermission]
    required_perms: tuple[str, ...] = ()

    def get_required_perms(self) -> tuple[str, ...]:
        return self.required_perms

    def get_object(self):
        """Look up in scope only (query filters of the list do not apply to one object)."""
        lookup = self.lookup_url_kwarg or self.lookup_field
        obj = get_object_or_404(self.get_queryset(), **{self.lookup_field: self.kwargs[lookup]})
        self.check_object_permissions(self.request, obj)
        return obj


class CategoryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """The request taxonomy (the same everywhere)."""

    serializer_class = CategorySerializer
    filterset_class = filters.CategoryFilter
    lookup_field = "code"
    lookup_value_regex = "[-a-zA-Z0-9_]+"
    cursor_ordering = ("code",)
    required_perms = ("cases.view_category",)

    def get_queryset(self):
        return Category.objects.select_related("parent")


class UnitViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """The tier tree (工委 → 街道 → 社区 → 网格) under the user's posts."""

    serializer_class = UnitSerializer
    filterset_class = filters.UnitFilter
    lookup_field = "code"
    lookup_value_regex = UNIT_CODE
    cursor_ordering = ("path",)
    required_perms = ("communities.view_unit",)

    def get_queryset(self):
        return visible_units(self.request.user).select_related("parent")

    def get_required_perms(self) -> tuple[str, ...]:
        if self.action == "scores":
            return (*self.required_perms, "cases.view_case")
        return self.required_perms

    @extend_schema(
        summary="三率 of the unit and of each child unit for a month",
        parameters=[OpenApiParameter("month", str, description="YYYY-MM; empty for the current month.")],
        responses=UnitScoresSerializer,
    )
    @action(detail=True, methods=["get"], filterset_class=None, pagination_class=None)
    def scores(self, request, code=None):
        unit = self.get_object()
        month = self._month(request.query_params.get("month", ""))
        ranked = rates.ranking(unit, month)
        total = rates.unit_month_scores(unit, month)[0]
        data = {"month": rates.month_label(month), "frozen": total.frozen, "unit": total, "children": ranked}
        return Response(UnitScoresSerializer(data).data)

    @staticmethod
    def _month(text: str):
        if not text.strip():
            return rates.current_month()
        try:
            month = rates.parse_month(text)
        except ValueError:
            raise ValidationError({"month": [_("Enter a month as YYYY-MM, e.g. 2026-10.")]}) from None
        if not filters.EARLIEST <= month <= filters.LATEST:
            raise ValidationError({"month": [filters.OUT_OF_RANGE]})
        return month


class BuildingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    serializer_class = BuildingSerializer
    filterset_class = filters.BuildingFilter
    lookup_value_regex = "[0-9]+"
    cursor_ordering = ("pk",)
    required_perms = ("communities.view_building",)

    def get_queryset(self):
        return visible_buildings(self.request.user)


class MonthlyScoreViewSet(mixins.ListModelMixin, ApiViewSet):
    """Frozen months (cases.MonthlyScore) of the units under the user's posts."""

    serializer_class = MonthlyScoreSerializer
    filterset_class = filters.MonthlyScoreFilter
    cursor_ordering = ("-month", "pk")
    required_perms = ("cases.view_case",)

    def get_queryset(self):
        return scope(MonthlyScore.objects.select_related("unit"), self.request.user, path_field="unit__path")


class CaseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """Cases in the user's part of the tree (plus co-handled and granted ones), newest first."""

    filterset_class = filters.CaseApiFilter
    lookup_field = "code"
    lookup_value_regex = CASE_CODE
    cursor_ordering = ("-received_at", "-pk")
    required_perms = ("cases.view_case",)

    def get_queryset(self):
        cases = selectors.visible_cases(self.request.user).select_related(*selectors.LIST_RELATED, "handler")
        if self.action == "list":
            return cases
        return cases.select_related("dispatching_unit", "merged_into")  # what only one case shows

    def get_serializer_class(self):
        if self.action == "list":
            return CaseSerializer
        if self.action == "create":
            return CaseCreateSerializer
        return CaseDetailSerializer

    def get_permissions(self):
        if self.action == "create":
            return [IsAuthenticated(), MayTakeIn()]
        return super().get_permissions()

    @extend_schema(
        summary="Register a request (staff intake; 12345 pushes)",
        request=CaseCreateSerializer,
        responses={
            201: CaseDetailSerializer,
            200: OpenApiResponse(CaseDetailSerializer, description="This 12345 order was registered before: that case."),
        },
    )
    def create(self, request, *args, **kwargs):
        existing = self._hotline_case(request.data)
        if existing is not None:
            return self._registered(existing, created=False)
        serializer = CaseCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        case = services.intake(by=request.user, **serializer.service_kwargs())
        return self._registered(case, created=True)

    @staticmethod
    def _hotline_case(data) -> Case | None:
        if not hasattr(data, "get") or data.get("source") != Case.Source.HOTLINE:
            return None
        order = str(data.get("hotline_order_no") or "").strip()
        return Case.objects.filter(hotline_order_no=order).first() if order else None

    def _registered(self, case: Case, *, created: bool) -> Response:
        shown = self.get_queryset().filter(pk=case.pk).first()
        if shown is None and not created:
            # The code only to those who may see the case: order numbers are sequential, codes are not.
            raise Conflict(_("This 12345 order is already registered, in a unit outside your part of the tree."))
        # A request taken in below the street waits at the street's desk: its author still gets it back once.
        body = CaseDetailSerializer(shown or case, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    def transition(self, request, spec: CaseAction) -> Response:
        """One action of the catalogue: look up in scope, check its permission, validate, perform, answer."""
        case = self.get_object()
        if not spec.permitted(request.user):
            raise PermissionDenied(NOT_ALLOWED)
        serializer = INPUTS[spec.name](data=request.data, context={**self.get_serializer_context(), "case": case})
        serializer.is_valid(raise_exception=True)
        result = spec.perform(request.user, case, serializer.validated_data)
        if spec.reveals_phone:
            return Response({"phone": result})
        shown = self.get_queryset().filter(pk=case.pk).first()
        if shown is None:  # e.g. returned to a unit above the user's post: done, no longer theirs to see
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(CaseDetailSerializer(shown, context=self.get_serializer_context()).data)


def _transition_view(spec: CaseAction):
    if spec.reveals_phone:
        responses = {200: PhoneSerializer}
    else:
        responses = {
            200: CaseDetailSerializer,
            204: OpenApiResponse(description="Done; the case has left the user's part of the tree."),
        }

    def view(self, request, code=None):
        return self.transition(request, spec)

    view.__name__ = f"do_{spec.name}"  # before @action, which maps the method by this name
    view.__doc__ = spec.summary
    view = action(
        detail=True, methods=["post"], url_path=spec.url_path, url_name=spec.url_path,
        filterset_class=None, pagination_class=None,
    )(view)
    return extend_schema(
        summary=spec.summary, request=INPUTS[spec.name], responses=responses, operation_id=f"cases_{spec.name}"
    )(view)


for _spec in ACTION_LIST:
    setattr(CaseViewSet, f"do_{_spec.name}", _transition_view(_spec))


@extend_schema(exclude=True)
@api_view(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
@authentication_classes([])
@permission_classes([AllowAny])
def not_found(request, *args, **kwargs):
    raise NotFound(_("There is no API address %(path)s; the addresses are listed at /api/v1/ and end with a slash.")
                   % {"path": request.path})
