"""Alerts end to end: a failing run opens one alert per monitor, repeat
failures attach to it, the owner hears of it, the version is flagged for
review, and resolving regenerates or retires the version. Coverage monitors
fail cheaply (no Evidently), so they drive these tests."""
import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction

from governance.models import Notice, NoticeKind
from monitoring import services
from monitoring.models import Alert, AlertStatus
from registry.choices import Role, VersionState
from registry.errors import Conflict

from .factories import make_user
from .monitoring_helpers import blobs, make_coverage_monitor, run_now

pytestmark = pytest.mark.django_db


def _fail(actor, monitor, capture, seed):
    return run_now(actor, monitor, capture, blobs(200, seed=seed, far_share=0.3),
                   scheduled_for=None)


def test_alert_lifecycle_open_attach_regenerate_then_retire(alice, bob, tenant_a, version_a,
                                                            django_capture_on_commit_callbacks):
    gwen = make_user("gwen", tenant=tenant_a, roles=[Role.GOVERNANCE_REVIEWER])
    alice.email = "alice@example.com"
    alice.save()
    monitor = make_coverage_monitor(alice, tenant_a, version_a)
    capture = django_capture_on_commit_callbacks

    first = _fail(alice, monitor, capture, seed=10)
    alert = first.alert
    version_a.refresh_from_db()
    assert alert.status == AlertStatus.OPEN and alert.version == version_a and version_a.needs_review
    assert version_a.history.first().history_user == alice  # the flag is attributed
    assert Notice.objects.filter(user=alice, kind=NoticeKind.ALERT, version=version_a).count() == 1
    assert len(mail.outbox) == 1 and monitor.name in mail.outbox[0].subject

    second = _fail(alice, monitor, capture, seed=11)
    alert.refresh_from_db()
    assert second.alert == alert and alert.failing_runs == 2
    assert Alert.objects.filter(monitor=monitor).count() == 1 and len(mail.outbox) == 1  # no flood

    with pytest.raises(PermissionDenied, match="Only governance reviewers"):
        services.acknowledge_alert(actor=alice, alert=alert, note="looking")
    services.acknowledge_alert(actor=gwen, alert=alert, note="looking")
    services.assign_alert(actor=alice, alert=alert, assignee=bob)
    with pytest.raises(Exception, match="note"):
        services.resolve_alert(actor=alice, alert=alert, resolution="other", note="")
    resolved = services.resolve_alert(actor=alice, alert=alert, resolution="regenerate", note="production moved")
    version_a.refresh_from_db()
    assert resolved.status == AlertStatus.RESOLVED and not version_a.needs_review
    assert resolved.regenerated_version.number == 2 and resolved.regenerated_version.state == VersionState.DRAFT
    with pytest.raises(Conflict):
        services.acknowledge_alert(actor=gwen, alert=alert)

    third = _fail(alice, monitor, capture, seed=12)
    assert third.alert != alert  # a new failure after resolution opens a new alert
    services.resolve_alert(actor=alice, alert=third.alert, resolution="retire", note="no longer reflects reality")
    version_a.refresh_from_db()
    assert version_a.state == VersionState.RETIRED and "alert" in version_a.retired_reason
    assert not version_a.needs_review


def test_the_database_allows_one_open_alert_per_monitor(alice, tenant_a, version_a, django_capture_on_commit_callbacks):
    monitor = make_coverage_monitor(alice, tenant_a, version_a)
    alert = _fail(alice, monitor, django_capture_on_commit_callbacks, seed=13).alert
    with pytest.raises(IntegrityError), transaction.atomic():
        Alert.objects.create(monitor=monitor, version=version_a, severity="low", summary="twin")
    services.resolve_alert(actor=alice, alert=alert, resolution="false_positive")
    Alert.objects.create(monitor=monitor, version=version_a, severity="low", summary="after resolution")


def test_outsiders_and_viewers_cannot_handle_alerts(alice, bob, charlie, tenant_a, version_a,
                                                    django_capture_on_commit_callbacks):
    from django.core.exceptions import PermissionDenied

    monitor = make_coverage_monitor(alice, tenant_a, version_a)
    alert = _fail(alice, monitor, django_capture_on_commit_callbacks, seed=14).alert
    for user in (bob, charlie):
        with pytest.raises(PermissionDenied):
            services.resolve_alert(actor=user, alert=alert, resolution="false_positive")
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN
