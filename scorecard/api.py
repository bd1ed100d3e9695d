"""Scorecard API. A scorecard is addressed by its version's id; the version
comes from ``registry.selectors.versions(user)``, so outside scope is 404."""
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from registry import selectors as registry_selectors
from registry.choices import Use

from . import exports, selectors, services
from .models import ScorecardPolicy, Waiver
from .serializers import (
    PolicySerializer, RevokeSerializer, ScorecardSerializer, SnapshotSerializer, WaiverCreateSerializer, WaiverSerializer,
)

USE_PARAMETER = OpenApiParameter(
    "use", str, enum=Use.values, description="The intended use (default: the manifest's use cell)."
)


@extend_schema_view(retrieve=extend_schema(parameters=[USE_PARAMETER], responses=ScorecardSerializer))
class ScorecardViewSet(viewsets.GenericViewSet):
    """The CAREFUL scorecard of a version for a use, computed from evidence."""

    serializer_class = ScorecardSerializer
    lookup_url_kwarg = "pk"

    def get_queryset(self):
        return registry_selectors.versions(self.request.user)

    def scorecard(self):
        version = self.get_object()
        return services.computed_and_recorded(version, selectors.use_or_default(version, self.request.query_params.get("use")))

    def retrieve(self, request, pk=None):
        """Seven letters, each with its checks' status, value, threshold and evidence link."""
        return Response(self.scorecard().as_dict())

    @extend_schema(parameters=[USE_PARAMETER], responses=SnapshotSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)
    def history(self, request, pk=None):
        """Every change of verdict, newest first (recorded on view and after evidence changes)."""
        scorecard = self.scorecard()
        return Response(SnapshotSerializer(selectors.history(scorecard.version, scorecard.use), many=True).data)

    @extend_schema(parameters=[USE_PARAMETER], responses={(200, "application/ld+json"): OpenApiResponse(
        OpenApiTypes.OBJECT, description="Croissant 1.0 JSON-LD with the RAI vocabulary.")})
    @action(detail=True, methods=["get"])
    def croissant(self, request, pk=None):
        """The manifest and scorecard as a Croissant JSON-LD document (rai: fields)."""
        scorecard = self.scorecard()
        exports.record_export(request.user, scorecard, "scorecard.croissant")
        document = exports.croissant_json(scorecard, base_url=request.build_absolute_uri("/"))
        return HttpResponse(document, content_type="application/ld+json")

    @extend_schema(parameters=[USE_PARAMETER], responses={(200, "text/markdown"): OpenApiResponse(
        OpenApiTypes.STR, description="A Markdown data card.")})
    @action(detail=True, methods=["get"])
    def datacard(self, request, pk=None):
        """The manifest and scorecard as a Markdown data card."""
        scorecard = self.scorecard()
        exports.record_export(request.user, scorecard, "scorecard.datacard")
        card = exports.datacard_markdown(scorecard, base_url=request.build_absolute_uri("/"))
        return HttpResponse(card, content_type="text/markdown; charset=utf-8")


class PolicyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Which checks each cell (use × harm × verifier) requires, with thresholds.
    Registry-wide and read-only here; governance staff edit it in the admin."""

    queryset = ScorecardPolicy.objects.all()
    serializer_class = PolicySerializer
    filterset_fields = ["use_cell", "harm", "cheap_verifier"]


class WaiverViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Waivers: a governance reviewer's decision that a letter's missing or failing
    evidence does not block a version, until a date, for its current manifest."""

    serializer_class = WaiverSerializer
    filterset_fields = ["version", "letter"]

    def get_queryset(self):
        return Waiver.objects.visible_to(self.request.user).select_related(
            "version__dataset", "version__manifest", "granted_by", "revoked_by")

    @extend_schema(request=WaiverCreateSerializer, responses={201: WaiverSerializer})
    def create(self, request):
        """Record a waiver (governance reviewers of the tenant who neither created nor submitted the version)."""
        serializer = WaiverCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        waiver = services.grant_waiver(actor=request.user, **serializer.validated_data)
        return Response(WaiverSerializer(self.get_queryset().get(pk=waiver.pk)).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=RevokeSerializer, responses=WaiverSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        """End a waiver early, with a reason."""
        waiver = self.get_object()
        serializer = RevokeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.revoke_waiver(actor=request.user, waiver=waiver, reason=serializer.validated_data["reason"])
        return Response(WaiverSerializer(self.get_queryset().get(pk=waiver.pk)).data)
