"""Catalog API. Every queryset starts from ``visible_to(request.user)`` (objects
outside scope are 404), and every write goes through a service."""
from django.conf import settings
from django.core.exceptions import ValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from gates.masking import masked_diff
from registry import permissions, selectors, services
from registry.diff import version_diff
from registry.filters import DatasetFilter, ExampleFilter, VersionFilter
from registry.models import DatasetVersion, Generator, PromptTemplate, Tenant

from .parsers import StrictJSONParser
from .serializers import (
    DatasetDetailSerializer,
    DatasetSerializer,
    DatasetUpdateSerializer,
    ExampleLineageSerializer,
    ExampleSerializer,
    GeneratorSerializer,
    IngestionJobSerializer,
    IngestionUploadSerializer,
    LineageSummarySerializer,
    ManifestSerializer,
    PromptTemplateSerializer,
    ShareSerializer,
    TenantSerializer,
    VersionCreateSerializer,
    VersionDiffSerializer,
    VersionSerializer,
)


class TenantViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = TenantSerializer
    lookup_field = "slug"

    def get_queryset(self):
        return Tenant.objects.visible_to(self.request.user)


class DatasetViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    lookup_field = "slug"
    filterset_class = DatasetFilter
    ordering_fields = ["slug", "name", "created_at", "latest_expires_at"]
    ordering = ["slug"]

    def get_queryset(self):
        queryset = selectors.catalog(self.request.user)
        if self.action == "retrieve":
            queryset = queryset.prefetch_related(selectors.versions_prefetch())
        return queryset

    def get_serializer_class(self):
        if self.action == "retrieve":
            return DatasetDetailSerializer
        if self.action in ("update", "partial_update"):
            return DatasetUpdateSerializer
        return DatasetSerializer

    def perform_create(self, serializer):
        dataset = services.create_dataset(actor=self.request.user, **serializer.validated_data)
        serializer.instance = self.get_queryset().get(pk=dataset.pk)

    @extend_schema(responses=DatasetSerializer)
    def update(self, request, *args, partial=False, **kwargs):
        dataset = self.get_object()
        serializer = DatasetUpdateSerializer(
            dataset, data=request.data, partial=partial, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        services.update_dataset(actor=request.user, dataset=dataset, **serializer.validated_data)
        return Response(DatasetSerializer(self.get_queryset().get(pk=dataset.pk)).data)

    @extend_schema(request=ShareSerializer, responses={204: None})
    @action(detail=True, methods=["post"])
    def share(self, request, slug=None):
        """Share this dataset (read access) with a user of another tenant, or revoke it."""
        dataset = self.get_object()
        serializer = ShareSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.share_dataset(actor=request.user, dataset=dataset, **serializer.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class VersionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = VersionSerializer
    filterset_class = VersionFilter
    ordering_fields = ["created_at", "number", "state_changed_at"]
    ordering = ["-created_at"]

    def get_queryset(self):
        return selectors.versions(self.request.user)

    @extend_schema(request=VersionCreateSerializer, responses={201: VersionSerializer})
    def create(self, request):
        """Open a new draft version; its manifest starts as a copy of the latest one."""
        serializer = VersionCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        version = services.create_version(
            actor=request.user, dataset=data["dataset"], notes=data.get("notes", ""), manifest=data.get("manifest")
        )
        return Response(VersionSerializer(self.get_queryset().get(pk=version.pk)).data, status=status.HTTP_201_CREATED)

    @extend_schema(methods=["GET"], responses=ManifestSerializer)
    @extend_schema(methods=["PATCH"], request=ManifestSerializer, responses=ManifestSerializer)
    @action(detail=True, methods=["get", "patch"])
    def manifest(self, request, pk=None):
        """Read the manifest, or change it while the version is a draft (409 otherwise)."""
        version = self.get_object()
        if request.method == "PATCH":
            serializer = ManifestSerializer(
                version.manifest, data=request.data, partial=True, context=self.get_serializer_context()
            )
            serializer.is_valid(raise_exception=True)
            services.update_manifest(actor=request.user, version=version, data=serializer.validated_data)
            version = self.get_queryset().get(pk=version.pk)
        return Response(ManifestSerializer(version.manifest).data)

    @extend_schema(responses=LineageSummarySerializer)
    @action(detail=True, methods=["get"])
    def lineage(self, request, pk=None):
        """Row counts by origin, generator, template, intended use and label, and the
        share of synthetic rows with complete provenance (stored aggregates)."""
        return Response(selectors.lineage_summary(self.get_object()))

    @extend_schema(
        parameters=[OpenApiParameter("against", OpenApiTypes.INT, description="Id of the older version "
                                     "(default: the previous version of the same dataset).")],
        responses=VersionDiffSerializer,
    )
    @action(detail=True, methods=["get"])
    def diff(self, request, pk=None):
        """What changed against an older version: manifest fields, examples added /
        removed / unchanged by content hash, labels, generators, templates."""
        version = self.get_object()
        against = request.query_params.get("against")
        try:
            old = (self.get_queryset().get(pk=int(against)) if against
                   else selectors.previous_version(request.user, version))
        except (ValueError, DatasetVersion.DoesNotExist):
            raise ValidationError({"against": "No such version in your scope."})
        return Response(masked_diff(version_diff(old, version), permissions.can(request.user, "view_raw", version)))


class GeneratorViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Generators are a shared vocabulary (model name and version), not tenant data."""

    serializer_class = GeneratorSerializer
    queryset = Generator.objects.all()
    filterset_fields = ["name", "version", "provider"]

    def perform_create(self, serializer):
        serializer.instance = services.register_generator(actor=self.request.user, **serializer.validated_data)


class PromptTemplateViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Versioned template store: posting a body under an existing name makes its next version."""

    serializer_class = PromptTemplateSerializer
    filterset_fields = ["name", "version", "body_sha256"]

    def get_queryset(self):
        return PromptTemplate.objects.visible_to(self.request.user).select_related("tenant", "created_by")

    def perform_create(self, serializer):
        serializer.instance = services.create_prompt_template(actor=self.request.user, **serializer.validated_data)


class ExampleViewSet(viewsets.ReadOnlyModelViewSet):
    """A version's examples, filtered by lineage; one example opens with its full lineage."""

    filterset_class = ExampleFilter
    ordering_fields = ["ordinal", "id"]
    ordering = ["version_id", "ordinal"]

    def get_queryset(self):
        if self.action == "retrieve":
            return selectors.example_detail_queryset(self.request.user)
        return selectors.examples(self.request.user)

    def get_serializer_class(self):
        return ExampleLineageSerializer if self.action == "retrieve" else ExampleSerializer


class IngestionJobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Uploads of examples: POST a file (multipart) to queue its ingestion into a
    draft version, then GET the job for its status, progress and error list."""

    serializer_class = IngestionJobSerializer
    # JSON is accepted only to answer "file: required" (400) instead of 415.
    parser_classes = [MultiPartParser, StrictJSONParser]
    filterset_fields = ["version", "status", "format"]

    def get_queryset(self):
        return selectors.ingestion_jobs(self.request.user)

    @extend_schema(request=IngestionUploadSerializer, responses={202: IngestionJobSerializer})
    def create(self, request):
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
        if declared > settings.MAX_UPLOAD_BYTES:
            return Response(
                {"file": [f"Larger than the {settings.MAX_UPLOAD_BYTES:,}-byte upload limit."]},
                status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            )
        serializer = IngestionUploadSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        job = services.upload_examples(
            actor=request.user, version=serializer.validated_data["version"], chunks=upload.chunks(),
            file_name=upload.name, format=serializer.validated_data.get("format"),
        )
        return Response(IngestionJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)
