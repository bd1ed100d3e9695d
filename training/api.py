"""Training API: every queryset starts from ``visible_to(request.user)``
(outside scope → 404) and every write goes through a service."""
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from governance import services as governance
from registry import permissions

from . import exports, selectors, services
from .serializers import (
    EvaluationSetSerializer, LeakagePairSerializer, LeakageScanCreateSerializer, LeakageScanSerializer,
    MixBuildCreateSerializer, MixBuildSerializer, ModelFamilySerializer, ProvenanceCheckCreateSerializer,
    ProvenanceCheckSerializer, TrainingMixSerializer,
)


class ReadCreateViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """List and detail from a scoped selector; ``create`` calls one service."""

    selector = None
    create_serializer_class = None

    def get_queryset(self):
        return type(self).selector(self.request.user)

    def validated(self, request):
        serializer = self.create_serializer_class(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def created(self, obj, code=status.HTTP_201_CREATED):
        return Response(self.get_serializer(self.get_queryset().get(pk=obj.pk)).data, status=code)


class ModelFamilyViewSet(ReadCreateViewSet):
    serializer_class = create_serializer_class = ModelFamilySerializer
    selector = selectors.families
    filterset_fields = ["name"]

    def create(self, request):
        data = self.validated(request)
        return self.created(services.create_model_family(actor=request.user, **data))


class EvaluationSetViewSet(ReadCreateViewSet):
    """Designating a version flags all its rows eval_exclusion and never_train_on."""

    serializer_class = create_serializer_class = EvaluationSetSerializer
    selector = selectors.evaluation_sets
    filterset_fields = ["family", "active"]

    def create(self, request):
        data = self.validated(request)
        return self.created(services.designate_evaluation_set(actor=request.user, **data))


class LeakageScanViewSet(ReadCreateViewSet):
    serializer_class = LeakageScanSerializer
    create_serializer_class = LeakageScanCreateSerializer
    selector = selectors.scans
    filterset_fields = ["status", "evaluation_set"]

    @extend_schema(request=LeakageScanCreateSerializer, responses={202: LeakageScanSerializer})
    def create(self, request):
        """Queue a scan (exact, near-duplicate and seed overlap); poll its status."""
        data = self.validated(request)
        params = {"threshold": data["threshold"]} if "threshold" in data else None
        scan = services.request_leakage_scan(
            actor=request.user, evaluation_set=data["evaluation_set"], candidates=data["candidates"], params=params
        )
        return self.created(scan, status.HTTP_202_ACCEPTED)

    @extend_schema(responses=LeakagePairSerializer(many=True))
    @action(detail=True, methods=["get"])
    def pairs(self, request, pk=None):
        """The leaks found, pair by pair."""
        page = self.paginate_queryset(selectors.scan_pairs(self.get_object()))
        return self.get_paginated_response(LeakagePairSerializer(page, many=True, context=self.get_serializer_context()).data)


class ProvenanceCheckViewSet(ReadCreateViewSet):
    serializer_class = ProvenanceCheckSerializer
    create_serializer_class = ProvenanceCheckCreateSerializer
    selector = selectors.provenance_checks
    filterset_fields = ["passed", "evaluation_set"]

    @extend_schema(request=ProvenanceCheckCreateSerializer, responses={201: ProvenanceCheckSerializer})
    def create(self, request):
        data = self.validated(request)
        return self.created(services.check_generator_provenance(actor=request.user, **data))


class MixBuildViewSet(ReadCreateViewSet):
    serializer_class = MixBuildSerializer
    create_serializer_class = MixBuildCreateSerializer
    selector = selectors.mix_builds
    filterset_fields = ["status"]

    @extend_schema(request=MixBuildCreateSerializer, responses={202: MixBuildSerializer})
    def create(self, request):
        """Queue a mix build; a refused build ends ``failed`` with its reasons and no mix."""
        data = self.validated(request)
        params = {
            "family": data["family"].pk, "name": data["name"], "purpose": data.get("purpose", ""),
            "components": [v.pk for v in data["components"]], "seed": data["seed"],
        }
        build = services.request_mix_build(actor=request.user, tenant=data["tenant"], params=params)
        return self.created(build, status.HTTP_202_ACCEPTED)


def _download(chunks, content_type, filename):
    response = StreamingHttpResponse(chunks, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class TrainingMixViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Mixes are created through mix builds; here they are read and exported."""

    serializer_class = TrainingMixSerializer
    filterset_fields = ["affected", "family"]

    def get_queryset(self):
        return selectors.mixes(self.request.user)

    def exportable_mix(self):
        """Training data leaves the registry unmasked (masking would corrupt it), so
        only those who may read raw content take it out: viewers get 403."""
        mix = self.get_object()
        permissions.require(self.request.user, "export", mix,
                            message="Only contributors and reviewers of the tenant export training data.")
        return mix

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["get"])
    def manifest(self, request, pk=None):
        """The mix manifest a training run cites, with its sha256 content hash."""
        mix = self.get_object()
        return Response({"content_hash": mix.content_hash, "manifest": mix.manifest})

    @extend_schema(responses={(200, "application/x-ndjson"): OpenApiResponse(OpenApiTypes.BINARY)})
    @action(detail=True, methods=["get"])
    def jsonl(self, request, pk=None):
        """Every selected example with its lineage, one JSON object per line (streamed)."""
        mix = self.exportable_mix()
        governance.record_export(actor=request.user, tenants=[mix.tenant], kind="mix.jsonl", object_label=mix)
        return _download(exports.jsonl_lines(mix), "application/x-ndjson", f"{mix.name}.jsonl")

    @extend_schema(responses={(200, "application/vnd.apache.parquet"): OpenApiResponse(OpenApiTypes.BINARY)})
    @action(detail=True, methods=["get"])
    def parquet(self, request, pk=None):
        """The same rows as Parquet, one row group per 5,000 rows (streamed)."""
        mix = self.exportable_mix()
        governance.record_export(actor=request.user, tenants=[mix.tenant], kind="mix.parquet", object_label=mix)
        return _download(exports.parquet_chunks(mix), "application/vnd.apache.parquet", f"{mix.name}.parquet")
