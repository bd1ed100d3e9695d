"""The notices page (a user's in-app notices) and the audit log export."""
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from registry.models import Tenant

from . import audit, services
from .models import Notice

RECENT_READ = 20


@require_safe
@login_required
def notices(request):
    mine = Notice.objects.filter(user=request.user).select_related("version__dataset")
    return render(request, "governance/notices.html", {
        "unread": mine.filter(read_at__isnull=True),
        "recent": mine.filter(read_at__isnull=False)[:RECENT_READ],
    })


@login_required
@require_POST
def mark_notices_read(request):
    services.mark_notices_read(user=request.user)
    return redirect("notices-page")


@require_safe
@login_required
def audit_csv(request):
    """Every governed action in the tenants the user governs, as CSV for auditors.
    The download itself is recorded (per tenant whose rows it held) once complete."""
    if not audit.may_read(request.user):
        raise PermissionDenied("Only governance staff may export the audit log.")

    def record(slugs):
        services.record_export(actor=request.user, tenants=Tenant.objects.filter(slug__in=slugs),
                               kind="audit.csv", object_label="audit log")

    response = StreamingHttpResponse(audit.csv_lines(audit.audit_rows(request.user), on_done=record),
                                     content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="careful-audit.csv"'
    return response
