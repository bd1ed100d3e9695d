"""Gates API: every queryset starts from ``visible_to(request.user)`` (outside
scope → 404) and every write goes through a service."""
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from governance import services as governance
from registry import permissions
from registry.models import Dataset, DatasetVersion

from . import exports, selectors, services
from .serializers import (
    CascadeSerializer, FidelityReportSerializer, GateRunCreateSerializer, GateRunSerializer, RejectionSerializer,
    VersionGatesSerializer,
)

REJECTION_FILTERS = [
    OpenApiParameter("gate", OpenApiTypes.STR, description="Only this gate's rejections (gate name)."),
    OpenApiParameter("position", OpenApiTypes.INT, description="Only the rejections of the step at this position."),
]


class CascadeViewSet(viewsets.GenericViewSet):
    """A dataset's ordered gate cascade (by dataset slug). PUT replaces it; a
    bad step answers 400 naming the step, its gate and the parameter."""

    serializer_class = CascadeSerializer
    lookup_field = "slug"

    def get_queryset(self):
        return Dataset.objects.visible_to(self.request.user)

    def retrieve(self, request, slug=None):
        return Response(CascadeSerializer(selectors.cascade_summary(self.get_object())).data)

    def update(self, request, slug=None):
        dataset = self.get_object()
        serializer = CascadeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        steps = [{"gate": step["gate"], "params": step["params"]} for step in serializer.validated_data["steps"]]
        services.configure_cascade(actor=request.user, dataset=dataset, steps=steps)
        return Response(CascadeSerializer(selectors.cascade_summary(dataset)).data)


def _filtered_rejections(run, params):
    position = params.get("position")
    return selectors.rejections(run, gate=params.get("gate") or None,
                                position=int(position) if position and position.isdigit() else None)


class GateRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Gate runs: POST queues one on a version (202; poll the run's URL for
    status and progress), GET shows its steps, reject set and fidelity."""

    serializer_class = GateRunSerializer
    filterset_fields = ["version", "status"]

    def get_queryset(self):
        return selectors.runs(self.request.user).select_related("fidelity_report").prefetch_related("results")

    @extend_schema(request=GateRunCreateSerializer, responses={202: GateRunSerializer})
    def create(self, request):
        """Validate the cascade, parameters and anchor, then queue the run."""
        serializer = GateRunCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        run = services.start_gate_run(actor=request.user, **serializer.validated_data)
        body = self.get_serializer(self.get_queryset().get(pk=run.pk)).data
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["links"]["self"]})

    @extend_schema(parameters=REJECTION_FILTERS, responses=RejectionSerializer(many=True))
    @action(detail=True, methods=["get"])
    def rejections(self, request, pk=None):
        """The run's reject set: each rejected example with its gate, reason and details."""
        page = self.paginate_queryset(_filtered_rejections(self.get_object(), request.query_params))
        return self.get_paginated_response(RejectionSerializer(page, many=True, context=self.get_serializer_context()).data)

    @extend_schema(parameters=REJECTION_FILTERS,
                   responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY)})
    @action(detail=True, methods=["get"], url_path="rejections/csv", url_name="rejections-csv")
    def rejections_csv(self, request, pk=None):
        """The same reject set as CSV (streamed)."""
        run = self.get_object()
        governance.record_export(actor=request.user, tenants=[run.version.dataset.tenant], kind="gates.rejections",
                                 object_label=run)
        response = StreamingHttpResponse(
            exports.rejection_csv(_filtered_rejections(run, request.query_params),
                                  raw=permissions.can(request.user, "view_raw", run.version)),
            content_type="text/csv"
        )
        response["Content-Disposition"] = f'attachment; filename="gate-run-{run.pk}-rejections.csv"'
        return response


class VersionGatesViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """A version's gate status: latest run, accepted pool size and the funnel."""

    serializer_class = VersionGatesSerializer
    queryset = DatasetVersion.objects.none()

    def get_queryset(self):
        return DatasetVersion.objects.visible_to(self.request.user).select_related("dataset")

    def retrieve(self, request, pk=None):
        summary = selectors.version_summary(self.get_object())
        return Response(VersionGatesSerializer(summary, context=self.get_serializer_context()).data)


class FidelityReportViewSet(viewsets.ReadOnlyModelViewSet):
    """Fidelity of a run's accepted pool against the real anchor (tabular:
    column shapes and pair trends as SDMetrics defines them, DCR; text: length,
    vocabulary and diversity distances)."""

    serializer_class = FidelityReportSerializer
    filterset_fields = ["version", "run"]

    def get_queryset(self):
        return selectors.fidelity_reports(self.request.user)
