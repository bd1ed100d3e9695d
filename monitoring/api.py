"""Monitoring API. Querysets start from the selectors (``visible_to``), so
objects outside scope are 404; every write goes through a service."""
from django.core.exceptions import ValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from registry.api.parsers import StrictJSONParser

from . import selectors, services
from .reports import report_response
from .serializers import (
    AcknowledgeSerializer, AlertSerializer, AssignSerializer, BaselineSerializer, BaselineVersionCreateSerializer,
    BaselineVersionSerializer, BatchCreateSerializer, BatchSerializer, MonitorSerializer, MonitorUpdateSerializer,
    ResolveSerializer, RunRequestSerializer, RunSerializer,
)


class BaselineViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                      viewsets.GenericViewSet):
    """Named real baselines of a tenant; their content lives in immutable versions."""

    serializer_class = BaselineSerializer
    parser_classes = [StrictJSONParser, MultiPartParser]
    filterset_fields = ["name"]

    def get_queryset(self):
        return selectors.baselines(self.request.user)

    def perform_create(self, serializer):
        baseline = services.create_baseline(actor=self.request.user, **serializer.validated_data)
        serializer.instance = self.get_queryset().get(pk=baseline.pk)

    @extend_schema(request=BaselineVersionCreateSerializer, responses={201: BaselineVersionSerializer})
    @action(detail=True, methods=["post"])
    def versions(self, request, pk=None):
        """Store a new immutable version from a dataset version, a training mix or an uploaded file."""
        baseline = self.get_object()
        serializer = BaselineVersionCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        upload = data.pop("file", None)
        mix_id = data.pop("source_mix", None)
        source_mix = None
        if mix_id is not None:
            from training.models import TrainingMix

            source_mix = TrainingMix.objects.visible_to(request.user).filter(pk=mix_id).first()
            if source_mix is None:
                raise ValidationError({"source_mix": "No such training mix in your scope."})
        version = services.add_baseline_version(
            actor=request.user, baseline=baseline, source_mix=source_mix,
            upload=(upload.chunks(), upload.name) if upload else None, **data,
        )
        return Response(BaselineVersionSerializer(version).data, status=status.HTTP_201_CREATED)


class BaselineVersionViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = BaselineVersionSerializer
    filterset_fields = ["baseline", "source", "source_version"]

    def get_queryset(self):
        return selectors.baseline_versions(self.request.user)


class MonitorViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                     mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """Drift, slice and coverage monitors of a version against a baseline version."""

    filterset_fields = ["version", "kind", "source", "enabled", "baseline_version"]
    parser_classes = [StrictJSONParser, MultiPartParser]

    def get_queryset(self):
        return selectors.monitors(self.request.user)

    def get_serializer_class(self):
        return MonitorUpdateSerializer if self.action in ("update", "partial_update") else MonitorSerializer

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        monitor = services.create_monitor(actor=self.request.user, **data)
        serializer.instance = self.get_queryset().get(pk=monitor.pk)

    def perform_update(self, serializer):
        monitor = services.update_monitor(actor=self.request.user, monitor=serializer.instance,
                                          **serializer.validated_data)
        serializer.instance = self.get_queryset().get(pk=monitor.pk)

    @extend_schema(request=RunRequestSerializer, responses={202: RunSerializer})
    @action(detail=True, methods=["post"])
    def run(self, request, pk=None):
        """Queue a run now (or for ``scheduled_for``); asking twice for one time returns the same run."""
        monitor = self.get_object()
        serializer = RunRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        run = services.request_run(actor=request.user, monitor=monitor, **serializer.validated_data)
        return Response(RunSerializer(run).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=BatchCreateSerializer, responses={201: BatchSerializer})
    @action(detail=True, methods=["post"])
    def batches(self, request, pk=None):
        """Post a batch of production rows: a file (multipart) or ``rows`` (JSON objects)."""
        import pandas as pd  # only for a batch: the URL conf loads no pandas

        monitor = self.get_object()
        serializer = BatchCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        upload = data.get("file")
        batch = services.post_production_batch(
            actor=request.user, monitor=monitor,
            frame=pd.DataFrame.from_records(data["rows"]) if "rows" in data else None,
            upload=(upload.chunks(), upload.name) if upload else None,
            started_at=data.get("started_at"), ended_at=data.get("ended_at"),
        )
        return Response(BatchSerializer(batch).data, status=status.HTTP_201_CREATED)


class BatchViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = BatchSerializer
    filterset_fields = ["monitor"]

    def get_queryset(self):
        return selectors.batches(self.request.user)


class RunViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = RunSerializer
    filterset_fields = ["monitor", "status", "outcome"]

    def get_queryset(self):
        return selectors.runs(self.request.user)

    @extend_schema(
        parameters=[OpenApiParameter("part", OpenApiTypes.STR, description="Report part (default: aggregate)."),
                    OpenApiParameter("kind", OpenApiTypes.STR, enum=["html", "json"])],
        responses={(200, "text/html"): OpenApiTypes.BINARY, (200, "application/json"): OpenApiTypes.OBJECT},
    )
    @action(detail=True, methods=["get"])
    def report(self, request, pk=None):
        """Download the stored Evidently report of this run (HTML or JSON)."""
        run = self.get_object()
        return report_response(run, request.query_params.get("part", "aggregate"),
                               request.query_params.get("kind", "html"), download=True)


class AlertViewSet(viewsets.ReadOnlyModelViewSet):
    """Alerts of failing monitors: acknowledge, assign, resolve with a reason."""

    serializer_class = AlertSerializer
    filterset_fields = ["monitor", "version", "status"]

    def get_queryset(self):
        return selectors.alerts(self.request.user)

    def _respond(self, alert):
        return Response(AlertSerializer(self.get_queryset().get(pk=alert.pk)).data)

    @extend_schema(request=AcknowledgeSerializer, responses=AlertSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        serializer = AcknowledgeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self._respond(services.acknowledge_alert(actor=request.user, alert=self.get_object(),
                                                        **serializer.validated_data))

    @extend_schema(request=AssignSerializer, responses=AlertSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        alert = self.get_object()
        serializer = AssignSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self._respond(services.assign_alert(actor=request.user, alert=alert, **serializer.validated_data))

    @extend_schema(request=ResolveSerializer, responses=AlertSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        """Resolve with a reason: false_positive, regenerate (opens a draft version), retire, other."""
        alert = self.get_object()
        serializer = ResolveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self._respond(services.resolve_alert(actor=request.user, alert=alert, **serializer.validated_data))

