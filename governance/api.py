"""Governance API: workflow actions on versions, use authorization, and
read-only (append-only) logs. Querysets start from ``visible_to(user)``, so a
version outside scope is 404; every action goes through a service."""
from django.core.exceptions import PermissionDenied
from drf_spectacular.utils import extend_schema
from rest_framework import generics, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from registry import selectors as registry_selectors
from registry.api.serializers import VersionSerializer
from registry.errors import NotFound
from registry.models import DatasetVersion, Tenant

from . import audit, services
from .models import Channel, Notice, SignOff, Transition, UseDecision
from .serializers import (
    AuditRowSerializer,
    AuthorizeUseRequestSerializer,
    AuthorizeUseResponseSerializer,
    CommentSerializer,
    NoticeSerializer,
    ReasonSerializer,
    RequiredCommentSerializer,
    SignOffRequestSerializer,
    SignOffSerializer,
    TransitionSerializer,
    UseDecisionSerializer,
)


def _workflow_action(name, service, request_serializer, field, doc, url_path=None):
    """The POST action ``name`` on one version: validates ``field``, calls ``service``."""

    @extend_schema(request=request_serializer, responses=VersionSerializer, description=doc)
    def view(self, request, pk=None):
        version = self.get_object()
        data = request_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        service(actor=request.user, version=version, **{field: data.validated_data[field]})
        return Response(VersionSerializer(self.get_queryset().get(pk=version.pk)).data)

    view.__name__ = name
    view.__doc__ = doc
    return action(detail=True, methods=["post"], url_path=url_path)(view)


class VersionGovernanceViewSet(viewsets.GenericViewSet):
    """Lifecycle actions on a version: /api/versions/{id}/submit/, sign-off/, ..."""

    serializer_class = VersionSerializer

    def get_queryset(self):
        return registry_selectors.versions(self.request.user)

    submit = _workflow_action(
        "submit", services.submit_for_review, CommentSerializer, "comment",
        "Draft -> in review (needs a complete purpose worksheet; contributors of the tenant).")
    approve = _workflow_action(
        "approve", services.approve, CommentSerializer, "comment",
        "In review -> approved, once every required role signed off the current manifest (409 otherwise).")
    request_changes = _workflow_action(
        "request_changes", services.request_changes, RequiredCommentSerializer, "comment",
        "In review -> draft, recorded as your sign-off (comment required).", url_path="request-changes")
    reject = _workflow_action(
        "reject", services.reject, RequiredCommentSerializer, "comment",
        "In review -> retired: the content will not be approved (comment required).")
    suspend = _workflow_action(
        "suspend", services.suspend, ReasonSerializer, "reason", "Approved -> suspended (reason required).")
    reinstate = _workflow_action(
        "reinstate", services.reinstate, CommentSerializer, "comment", "Suspended -> approved.")
    retire = _workflow_action(
        "retire", services.retire_version, ReasonSerializer, "reason",
        "Any state -> retired (reason required); the record stays, every use is refused.")

    @extend_schema(request=SignOffRequestSerializer, responses={201: SignOffSerializer})
    @action(detail=True, methods=["post"], url_path="sign-off")
    def sign_off(self, request, pk=None):
        """Sign off the current manifest as one of your roles; the last required approval approves the version."""
        version = self.get_object()
        data = SignOffRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        signoff = services.sign_off(actor=request.user, version=version, **data.validated_data)
        signoff = SignOff.objects.select_related("version__manifest", "reviewer").get(pk=signoff.pk)
        return Response(SignOffSerializer(signoff).data, status=status.HTTP_201_CREATED)


class SignOffViewSet(viewsets.ReadOnlyModelViewSet):
    """Sign-offs (append-only) of versions you can see."""

    serializer_class = SignOffSerializer
    filterset_fields = ["version", "role", "decision"]

    def get_queryset(self):
        return SignOff.objects.visible_to(self.request.user).select_related("version__manifest", "reviewer")


class TransitionViewSet(viewsets.ReadOnlyModelViewSet):
    """State transitions (append-only) of versions you can see."""

    serializer_class = TransitionSerializer
    filterset_fields = ["version", "to_state", "action"]

    def get_queryset(self):
        return Transition.objects.visible_to(self.request.user).select_related("actor")


class UseDecisionViewSet(viewsets.ReadOnlyModelViewSet):
    """Logged use-authorization decisions on versions you can see."""

    serializer_class = UseDecisionSerializer
    filterset_fields = ["version", "use", "allowed", "channel"]

    def get_queryset(self):
        return UseDecision.objects.visible_to(self.request.user).select_related("tenant", "asked_by")


class NoticeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Your in-app notices, newest first; ``?unread=true`` for unread ones."""

    serializer_class = NoticeSerializer
    queryset = Notice.objects.none()  # the schema's model; get_queryset scopes to the user
    filterset_fields = ["kind"]

    def get_queryset(self):
        notices = Notice.objects.filter(user=self.request.user)
        if self.request.query_params.get("unread") in ("1", "true"):
            notices = notices.filter(read_at__isnull=True)
        return notices

    @extend_schema(request=None, responses=NoticeSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        """Mark this notice read."""
        notice = self.get_object()
        services.mark_notices_read(user=request.user, notice_ids=[notice.pk])
        notice.refresh_from_db()
        return Response(NoticeSerializer(notice).data)


class AuthorizeUseView(APIView):
    """May a tenant use a version for a use? Answers allowed / denied with every
    reason and logs the decision. A version outside your scope is 404."""

    @extend_schema(request=AuthorizeUseRequestSerializer, responses=AuthorizeUseResponseSerializer)
    def post(self, request):
        data = AuthorizeUseRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        data = data.validated_data
        tenant = Tenant.objects.visible_to(request.user).filter(slug=data["tenant"]).first()
        if tenant is None:
            raise serializers.ValidationError({"tenant": "No such tenant in your scope."})
        versions = DatasetVersion.objects.visible_to(request.user)
        if "version_id" in data:
            version = versions.filter(pk=data["version_id"]).first()
        else:
            version = versions.filter(dataset__slug=data["dataset"], number=data["version"]).first()
        if version is None:
            raise NotFound("No such version.")
        decision = services.authorize_use(
            actor=request.user, tenant=tenant, version=version, use=data["use"], channel=Channel.API
        )
        return Response({
            "allowed": decision.allowed, "reasons": decision.reasons, "decision_id": decision.pk,
            "version_id": version.pk, "tenant": tenant.slug, "use": decision.use,
        })


class AuditLogView(generics.ListAPIView):
    """Every governed action (transitions, sign-offs, use decisions, training bulk
    writes, exports, policy edits) in the tenants you govern, newest first.
    /audit.csv has the same rows as CSV."""

    serializer_class = AuditRowSerializer
    # Rows of several tables merged in Python: no queryset to filter or order.
    filter_backends = []

    def get_queryset(self):
        if not audit.may_read(self.request.user):
            raise PermissionDenied("Only governance staff may read the audit log.")
        return list(audit.audit_rows(self.request.user))
