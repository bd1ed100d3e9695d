"""The notices page: a user's in-app notices (expiry soon, approvals, alerts)."""
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from . import services
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
