"""The policy admin edits the registry-wide policy in the admin, with history;
unknown codes are named; tenant governors read it and cannot change it."""
import pytest
from django.urls import reverse

from registry.choices import Role
from scorecard.models import ScorecardPolicy

from .factories import make_user, policy_admin

pytestmark = pytest.mark.django_db


@pytest.fixture
def gwen(tenant_a):
    return make_user("gwen-admin", tenant=tenant_a, roles=[Role.GOVERNANCE_REVIEWER], is_staff=True)


@pytest.fixture
def pam(db):
    return policy_admin()


def form_data(policy, **changes):
    import json

    data = {"use_cell": policy.use_cell, "harm": policy.harm, "cheap_verifier": "on" if policy.cheap_verifier else "",
            "checks": json.dumps(policy.checks), "max_synthetic_ratio": policy.max_synthetic_ratio, "notes": policy.notes}
    data.update(changes)
    return {key: value for key, value in data.items() if value not in ("", None)}


def test_the_policy_admin_edits_a_cell_with_history(client, pam):
    policy = ScorecardPolicy.objects.get(use_cell="demo", harm="low", cheap_verifier=False)
    client.force_login(pam)
    url = reverse("admin:scorecard_scorecardpolicy_change", args=[policy.pk])
    response = client.post(url, form_data(policy, max_synthetic_ratio="0.6"))
    assert response.status_code == 302, response.content.decode()[:2000]
    policy.refresh_from_db()
    assert policy.max_synthetic_ratio == 0.6
    assert policy.history.latest().history_user == pam
    assert client.get(reverse("admin:scorecard_scorecardpolicy_history", args=[policy.pk])).status_code == 200


def test_an_unknown_check_code_is_named_in_the_admin_form(client, pam):
    policy = ScorecardPolicy.objects.get(use_cell="demo", harm="low", cheap_verifier=False)
    client.force_login(pam)
    url = reverse("admin:scorecard_scorecardpolicy_change", args=[policy.pk])
    response = client.post(url, form_data(policy, checks='{"C.purpose_worksheet": {}, "X.made_up": {}}'))
    assert response.status_code == 200 and "Unknown check code(s): X.made_up." in response.content.decode()
    policy.refresh_from_db()
    assert "X.made_up" not in policy.checks


@pytest.mark.parametrize("who", ["alice", "gwen"])
def test_tenant_governors_may_read_but_not_edit_the_registry_wide_policy(client, who, request):
    policy = ScorecardPolicy.objects.first()
    client.force_login(request.getfixturevalue(who))  # a tenant admin, a governance reviewer
    url = reverse("admin:scorecard_scorecardpolicy_change", args=[policy.pk])
    assert client.get(url).status_code == 200
    assert client.post(url, form_data(policy, max_synthetic_ratio="0.99")).status_code == 403
