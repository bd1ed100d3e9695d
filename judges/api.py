"""Judges API: every queryset starts from ``visible_to(request.user)``
(outside scope → 404) and every write goes through a service."""
from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from registry.api.parsers import StrictJSONParser

from . import selectors, services
from .models import JudgeScore
from .serializers import (
    DecisionSerializer, JudgePanelSerializer, JudgeScoreSerializer, ReviewItemSerializer, ScoreUploadCreateSerializer,
    ScoreUploadSerializer,
)


class JudgePanelViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = JudgePanelSerializer
    filterset_fields = ["dataset__slug"]

    def get_queryset(self):
        return selectors.panels(self.request.user)

    def _configure(self, request, dataset, data, code):
        panel = services.configure_panel(actor=request.user, dataset=dataset, **data)
        return Response(self.get_serializer(self.get_queryset().get(pk=panel.pk)).data, status=code)

    @extend_schema(responses={201: JudgePanelSerializer})
    def create(self, request):
        """Create the dataset's panel (or replace its settings); open versions' queues are recomputed."""
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        return self._configure(request, data.pop("dataset"), data, status.HTTP_201_CREATED)

    @extend_schema(request=JudgePanelSerializer, responses=JudgePanelSerializer)
    def partial_update(self, request, pk=None):
        panel = self.get_object()
        serializer = self.get_serializer(panel, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("dataset", None)
        return self._configure(request, panel.dataset, data, status.HTTP_200_OK)


class ScoreUploadViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = ScoreUploadSerializer
    parser_classes = [StrictJSONParser, MultiPartParser]
    filterset_fields = ["version"]

    def get_queryset(self):
        return selectors.uploads(self.request.user)

    @extend_schema(request={"application/json": ScoreUploadCreateSerializer,
                            "multipart/form-data": ScoreUploadCreateSerializer},
                   responses={201: ScoreUploadSerializer})
    def create(self, request):
        """Upload judge scores in bulk (JSON rows or a CSV file). Every line is
        checked first; a bad line refuses the whole upload (400, naming each
        line). Returns the counts and the review queue's sizes."""
        serializer = ScoreUploadCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if "file" in data:
            upload = data["file"]
            rows, name = services.rows_from_csv(upload.file), upload.name
        else:
            rows, name = services.rows_from_json(data["rows"]), ""
        result = services.upload_judge_scores(actor=request.user, version=data["version"], rows=rows,
                                              file_name=name)
        return Response(self.get_serializer(self.get_queryset().get(pk=result.pk)).data,
                        status=status.HTTP_201_CREATED)


class JudgeScoreViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The scores of a version, page by page; filter by judge or example."""

    serializer_class = JudgeScoreSerializer
    filterset_fields = ["version", "judge", "example"]
    ordering = ["example_id", "judge"]

    def get_queryset(self):
        return selectors.scores(self.request.user).order_by("example_id", "judge")


class ReviewItemViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = ReviewItemSerializer
    filterset_fields = {"version": ["exact"], "reason": ["exact"], "decision": ["exact"],
                        "version__dataset__slug": ["exact"]}

    def get_queryset(self):
        queryset = selectors.review_items(self.request.user).prefetch_related(
            Prefetch("example__judge_scores", queryset=JudgeScore.objects.order_by("judge"))
        )
        is_open = self.request.query_params.get("open")
        if is_open in ("true", "false"):
            queryset = queryset.filter(decision="") if is_open == "true" else queryset.exclude(decision="")
        return queryset

    @extend_schema(parameters=[OpenApiParameter("open", bool, description="Only open (true) or decided (false).")])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=DecisionSerializer, responses=ReviewItemSerializer)
    @action(detail=True, methods=["post"])
    def decision(self, request, pk=None):
        """Record the human decision: accept, reject or relabel (with the corrected label)."""
        item = self.get_object()
        serializer = DecisionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.decide_review_item(actor=request.user, item=item, **serializer.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=item.pk)).data)
