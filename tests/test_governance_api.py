"""The workflow over the API: every action, its status codes, append-only logs,
scoped lists, and notices (API, page and nav badge)."""
import pytest

from governance import services
from governance.models import Notice, SignOff, Transition

from .test_governance_workflow import fast_passwords, gwen, lena  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("workflow_policy")]


def post(client, version, action, data=None):
    return client.post(f"/api/versions/{version.pk}/{action}/", data or {}, format="json")


def test_the_whole_lifecycle_over_the_api(api, alice, lena, gwen, version_a):
    assert post(api(alice), version_a, "submit", {"comment": "ready"}).json()["state"] == "in_review"
    response = post(api(lena), version_a, "sign-off", {"decision": "approve", "role": "legal_reviewer"})
    assert response.status_code == 201 and response.json()["is_current"] is True
    assert response.json()["manifest_hash"] == version_a.manifest.content_hash
    response = post(api(gwen), version_a, "sign-off", {"decision": "approve"})
    assert response.status_code == 201 and response.json()["role"] == "governance_reviewer"
    assert api(alice).get(f"/api/versions/{version_a.pk}/").json()["state"] == "approved"
    assert post(api(gwen), version_a, "suspend", {"reason": "audit"}).json()["state"] == "suspended"
    assert post(api(gwen), version_a, "reinstate").json()["state"] == "approved"
    response = post(api(gwen), version_a, "retire", {"reason": "superseded"})
    assert response.json()["state"] == "retired" and response.json()["retired_reason"] == "superseded"
    actions = [t["action"] for t in api(alice).get(f"/api/transitions/?version={version_a.pk}").json()["results"]]
    assert actions == ["submit", "approve", "suspend", "reinstate", "retire"]


def test_request_changes_and_reject_need_a_comment(api, alice, lena, gwen, version_a):
    post(api(alice), version_a, "submit")
    response = post(api(lena), version_a, "request-changes")
    assert response.status_code == 400 and "comment" in response.json()
    assert post(api(lena), version_a, "request-changes", {"comment": "fix"}).json()["state"] == "draft"
    post(api(alice), version_a, "submit")
    assert post(api(gwen), version_a, "reject", {"comment": ""}).status_code == 400
    assert post(api(gwen), version_a, "reject", {"comment": "no"}).json()["state"] == "retired"


def test_illegal_moves_are_409_and_forbidden_roles_403(api, alice, bob, lena, gwen, version_a):
    response = post(api(lena), version_a, "approve")
    assert response.status_code == 409 and "draft" in response.json()["detail"]
    assert post(api(gwen), version_a, "reinstate").status_code == 409
    assert post(api(bob), version_a, "submit").status_code == 403
    post(api(alice), version_a, "submit")
    assert post(api(bob), version_a, "approve").status_code == 403
    assert post(api(alice), version_a, "sign-off", {"decision": "approve"}).status_code == 403
    response = post(api(lena), version_a, "approve")
    assert response.status_code == 409 and "missing sign-off" in response.json()["detail"]
    response = post(api(lena), version_a, "sign-off", {"decision": "maybe"})
    assert response.status_code == 400 and "decision" in response.json()


def test_versions_outside_scope_are_404(api, charlie, version_a):
    for action in ("submit", "sign-off", "approve", "retire"):
        assert post(api(charlie), version_a, action, {"reason": "x", "decision": "approve"}).status_code == 404


def test_signoffs_and_transitions_are_append_only(api, alice, lena, version_a):
    post(api(alice), version_a, "submit")
    signoff = services.sign_off(actor=lena, version=version_a, decision="approve")
    transition = Transition.objects.get()
    for url in (f"/api/signoffs/{signoff.pk}/", f"/api/transitions/{transition.pk}/"):
        assert api(alice).get(url).status_code == 200
        for method in ("put", "patch", "delete"):
            assert getattr(api(alice), method)(url, {"comment": "edited"}, format="json").status_code == 405
    assert SignOff.objects.get().comment == "" and Transition.objects.count() == 1


def test_lists_are_scoped(api, alice, charlie, lena, version_a):
    post(api(alice), version_a, "submit")
    services.sign_off(actor=lena, version=version_a, decision="approve")
    assert api(alice).get("/api/signoffs/").json()["count"] == 1
    assert api(charlie).get("/api/signoffs/").json()["count"] == 0
    assert api(charlie).get("/api/transitions/").json()["count"] == 0


# Notices

def test_notices_are_personal_and_can_be_marked_read(api, alice, lena, gwen, version_a):
    post(api(alice), version_a, "submit")
    mine = api(lena).get("/api/notices/?unread=true").json()
    assert mine["count"] == 1 and mine["results"][0]["kind"] == "review_requested"
    notice_id = mine["results"][0]["id"]
    assert api(gwen).get(f"/api/notices/{notice_id}/").status_code == 404
    assert api(gwen).post(f"/api/notices/{notice_id}/read/").status_code == 404
    assert api(lena).post(f"/api/notices/{notice_id}/read/").json()["read_at"] is not None
    assert api(lena).get("/api/notices/?unread=true").json()["count"] == 0


def test_the_notices_page_and_nav_badge(client, alice, lena, version_a):
    services.submit_for_review(actor=alice, version=version_a)
    client.force_login(lena)
    page = client.get("/notices/").content.decode()
    assert "waits for your review" in page and 'id="nav-notices"' in page
    assert 'title="unread notices">1<' in page
    response = client.post("/notices/read/")
    assert response.status_code == 302
    page = client.get("/notices/").content.decode()
    assert "Nothing new" in page and 'title="unread notices"' not in page
    assert Notice.objects.filter(user=lena, read_at__isnull=False).count() == 1
