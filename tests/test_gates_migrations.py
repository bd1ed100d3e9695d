"""The data migrations of issues 14 and 16 on rows stored before them: policies
gain A.fidelity's new thresholds (keeping a governance change), configured
cascades lose the realism parameters that no longer exist. Run with the live app
registry, which holds the same models and history tables as the migration state."""
import importlib

import pytest
from django.apps import apps

from gates.models import GateCascade, GateStep
from gates.services import validate_steps
from scorecard.models import ScorecardPolicy
from scorecard.policy_defaults import fidelity_params, install_defaults

from .factories import make_dataset

pytestmark = pytest.mark.django_db


def test_stored_policies_gain_the_fidelity_thresholds_and_keep_their_own():
    install_defaults(ScorecardPolicy, overwrite=False)
    policy = ScorecardPolicy.objects.get(use_cell="privacy", harm="high", cheap_verifier=False)
    ScorecardPolicy.objects.filter(pk=policy.pk).update(checks={**policy.checks, "A.fidelity": {"max_auc": 0.52}})
    untouched = ScorecardPolicy.objects.filter(use_cell="demo").first()
    importlib.import_module("scorecard.migrations.0003_fidelity_thresholds").add_thresholds(apps, None)
    policy.refresh_from_db()
    assert policy.checks["A.fidelity"] == {**fidelity_params("privacy", "high"), "max_auc": 0.52}
    assert policy.checks["A.fidelity"]["max_copy_share"] == 0.0
    assert policy.history.first().history_change_reason.startswith("A.fidelity thresholds")
    assert "A.fidelity" not in untouched.checks and not untouched.history.exists()


def test_configured_cascades_lose_the_removed_realism_parameters(alice, tenant_a):
    cascade = GateCascade.objects.create(dataset=make_dataset(alice, tenant_a, "old-cascade"), updated_by=alice)
    GateStep.objects.create(cascade=cascade, position=1, gate="format", params={})
    step = GateStep.objects.create(cascade=cascade, position=2, gate="realism",
                                   params={"n_null": 10, "copy_margin": 0.05, "max_auc": 0.7})
    importlib.import_module("gates.migrations.0003_realism_null_band").drop_removed_params(apps, None)
    step.refresh_from_db()
    cascade.refresh_from_db()
    assert step.params == {"max_auc": 0.7} and cascade.revision == 2
    assert validate_steps(cascade.step_config())[1]["params"]["max_auc"] == 0.7
    assert step.history.first().history_change_reason.startswith("realism: the null band")
    assert cascade.history.first().revision == 2
