"""Training mixes: the guard, the ratio cap, stratified downsampling, bad input,
and mixes flagged when a component is retired. Helpers here are shared by the
other tests/test_training_*.py modules."""
import io
import json

import pyarrow.parquet as pq
import pytest
from django.core.exceptions import ValidationError

from django.contrib.auth import get_user_model

from governance import services as governance
from governance.models import Decision
from registry.choices import DatasetKind, Origin, Role, Use, VersionState
from registry.lineage import content_hash
from registry.models import Example, Membership
from training import services
from training.models import AuditEntry, MixExample, TrainingMix

from .factories import make_dataset, make_version

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("workflow_policy")]


def add_examples(version, rows, *, generator=None):
    """Bulk-insert rows given as (text, label, origin[, seed_example]) tuples."""
    start = Example.objects.filter(version=version).count()
    examples = []
    for i, row in enumerate(rows, start=start + 1):
        text, label, origin = row[:3]
        synthetic = origin == Origin.SYNTHETIC
        examples.append(Example(
            version=version, ordinal=i, text=text, label=label, origin=origin,
            content_hash=content_hash(text=text), generator=generator if synthetic else None,
            prompt_hash="p" * 64 if synthetic else "", seed_example=row[3] if len(row) > 3 else None,
        ))
    return Example.objects.bulk_create(examples)


def reviewers(tenant):
    """A legal and a governance reviewer of ``tenant`` (the default sign-off policy)."""
    users = []
    for role in (Role.LEGAL_REVIEWER, Role.GOVERNANCE_REVIEWER):
        user, _ = get_user_model().objects.get_or_create(username=f"{role}-{tenant.slug}")
        Membership.objects.get_or_create(user=user, tenant=tenant, role=role)
        users.append((user, role))
    return users


def approve_version(version):
    """Through the governance workflow: submit, then both required sign-offs."""
    governance.submit_for_review(actor=version.created_by, version=version)
    for reviewer, role in reviewers(version.dataset.tenant):
        governance.sign_off(actor=reviewer, version=version, role=role, decision=Decision.APPROVE)
    version.refresh_from_db()
    assert version.state == VersionState.APPROVED
    return version


def synthetic_version(owner, tenant, slug, rows, generator, *, cap=0.3, approve=True):
    version = make_version(owner, make_dataset(owner, tenant, slug), max_synthetic_ratio=cap)
    add_examples(version, [(text, label, Origin.SYNTHETIC, *rest) for text, label, *rest in rows], generator=generator)
    return approve_version(version) if approve else version


def real_version(owner, tenant, slug, rows, *, kind=DatasetKind.REAL_HOLDOUT, approve=True, **manifest):
    dataset = make_dataset(owner, tenant, slug, kind=kind)
    version = make_version(owner, dataset, max_synthetic_ratio=None, **manifest)
    add_examples(version, [(text, label, Origin.REAL) for text, label in rows])
    return approve_version(version) if approve else version


def eval_version(owner, tenant, slug, rows, approve=True):
    return real_version(
        owner, tenant, slug, rows, kind=DatasetKind.REAL_HOLDOUT, use_cell=Use.EVALUATION,
        intended_uses=[Use.EVALUATION], prohibited_uses=[Use.TRAINING], approve=approve,
    )


@pytest.fixture
def generator(alice):
    from registry.services import register_generator

    return register_generator(actor=alice, name="sim-llm", version="2026-09")


@pytest.fixture
def family(alice, tenant_a):
    return services.create_model_family(actor=alice, tenant=tenant_a, name="support-intent-classifier")


def texts(prefix, n, label):
    return [(f"{prefix} ticket number {i} about {label} with some words", label) for i in range(n)]


@pytest.fixture
def pools(alice, tenant_a, generator):
    """100 real rows (2 labels) and 1,000 synthetic rows (5 labels, one rare) capped at 0.3."""
    real = real_version(alice, tenant_a, "real-tickets", texts("real", 60, "billing") + texts("real", 40, "refund"))
    synthetic_rows = (
        texts("syn", 500, "billing") + texts("syn", 300, "refund") + texts("syn", 150, "gdpr")
        + texts("syn", 47, "chargeback") + texts("syn", 3, "regulator")
    )
    synthetic = synthetic_version(alice, tenant_a, "syn-tickets", synthetic_rows, generator, cap=0.3)
    return real, synthetic


def build(alice, tenant_a, family, components, name="mix-1", seed=7):
    return services.build_training_mix(
        actor=alice, tenant=tenant_a, family=family, name=name, components=components, seed=seed
    )


def test_ratio_cap_is_met_exactly_within_rounding(alice, tenant_a, family, pools):
    mix = build(alice, tenant_a, family, list(pools))
    assert mix.real_count == 100 and mix.synthetic_pool_count == 1000
    # 0.3 * 100 / 0.7 = 42.86: 42 synthetic rows fit, a 43rd would break the cap.
    assert mix.synthetic_count == 42
    assert mix.synthetic_ratio <= 0.3 < (mix.synthetic_count + 1) / (mix.total_count + 1)
    assert MixExample.objects.filter(mix=mix).count() == mix.total_count == 142
    assert {c.version_id: c.selected_count for c in mix.components.all()} == {pools[0].pk: 100, pools[1].pk: 42}


def test_stratified_downsampling_keeps_every_label_of_the_synthetic_pool(alice, tenant_a, family, pools):
    mix = build(alice, tenant_a, family, list(pools))
    kept = Example.objects.filter(pk__in=mix.examples.values("example_id"), origin=Origin.SYNTHETIC)
    assert set(kept.values_list("label", flat=True)) == {"billing", "refund", "gdpr", "chargeback", "regulator"}
    assert mix.labels_after["regulator"]["synthetic"] >= 1
    assert mix.labels_before["billing"] == {"real": 60, "synthetic": 500}
    # Proportional beyond the one-per-label floor: the big label keeps the most.
    assert mix.labels_after["billing"]["synthetic"] > mix.labels_after["gdpr"]["synthetic"]


def test_same_inputs_and_seed_give_the_same_manifest_hash(alice, tenant_a, family, pools):
    first = build(alice, tenant_a, family, list(pools), name="mix-a", seed=3)
    again = build(alice, tenant_a, family, list(pools), name="mix-a2", seed=3)
    other = build(alice, tenant_a, family, list(pools), name="mix-b", seed=4)
    selection = lambda mix: mix.manifest["selection"]["examples_sha256"]  # noqa: E731
    assert selection(first) == selection(again) != selection(other)
    assert len(first.content_hash) == 64 and first.manifest["seed"] == 3
    assert AuditEntry.objects.filter(mix=first, action="mix_built", rows_affected=142).exists()


def test_guard_refuses_a_single_planted_eval_row_and_lists_it(alice, tenant_a, family, pools):
    real, synthetic = pools
    planted = Example.objects.filter(version=synthetic).order_by("ordinal")[500]
    Example.objects.filter(pk=planted.pk).update(eval_exclusion=True)
    with pytest.raises(ValidationError) as refused:
        build(alice, tenant_a, family, [real, synthetic])
    messages = refused.value.message_dict["components"]
    assert messages == [f"example {planted.pk} ({synthetic} #{planted.ordinal}) is flagged eval_exclusion"]
    assert not TrainingMix.objects.exists() and not MixExample.objects.exists()


def test_guard_refuses_versions_not_authorized_for_training(alice, tenant_a, family, pools, generator):
    real, synthetic = pools
    draft = synthetic_version(alice, tenant_a, "draft-syn", texts("d", 5, "billing"), generator, approve=False)
    prohibited = real_version(alice, tenant_a, "no-train", texts("n", 5, "billing"),
                              intended_uses=[Use.EVALUATION], prohibited_uses=[Use.TRAINING])
    with pytest.raises(ValidationError) as refused:
        build(alice, tenant_a, family, [real, draft, prohibited])
    text = " ".join(refused.value.message_dict["components"])
    assert str(draft) in text and str(prohibited) in text and str(real) not in text
    assert not TrainingMix.objects.exists()


@pytest.mark.parametrize("case", ["unknown", "unmeetable_cap", "empty", "other_tenant"])
def test_bad_input_leaves_no_mix_row(alice, tenant_a, family, pools, generator, charlie, tenant_b, case):
    real, synthetic = pools
    if case == "unknown":
        components, field = [real.pk, 999999], "components"
    elif case == "unmeetable_cap":
        components, field = [synthetic], "components"  # no real rows: only zero synthetic rows meet 0.3
    elif case == "empty":
        components, field = [real_version(alice, tenant_a, "empty-real", [])], "components"
    else:
        components, field = [real, real_version(charlie, tenant_b, "theirs", texts("t", 3, "x"))], "components"
    with pytest.raises(ValidationError) as refused:
        build(alice, tenant_a, family, components)
    assert field in refused.value.message_dict
    assert not TrainingMix.objects.exists() and not MixExample.objects.exists()


def test_retiring_a_component_flags_its_mixes(alice, tenant_a, family, pools, generator):
    from governance.models import Notice

    real, synthetic = pools
    mix = build(alice, tenant_a, family, [real, synthetic])
    untouched = build(alice, tenant_a, family, [real], name="real-only")
    governance.retire_version(actor=alice, version=synthetic, reason="generator bug found")
    mix.refresh_from_db()
    untouched.refresh_from_db()
    assert mix.affected and "generator bug found" in mix.affected_reason
    assert not untouched.affected
    assert AuditEntry.objects.filter(mix=mix, action="mixes_affected").exists()
    assert Notice.objects.filter(user=alice, kind="retired", message__contains="Training mix mix-1").exists()


def test_suspending_a_component_flags_its_mixes_in_the_same_transaction(alice, tenant_a, family, pools):
    mix = build(alice, tenant_a, family, list(pools))
    governance.suspend(actor=alice, version=pools[0], reason="label audit")
    mix.refresh_from_db()
    assert mix.affected and "suspended" in mix.affected_reason


def test_exports_stream_every_row_with_lineage(alice, tenant_a, family, pools, client):
    mix = build(alice, tenant_a, family, list(pools))
    client.force_login(alice)
    response = client.get(f"/api/training/mixes/{mix.pk}/jsonl/")
    assert response.status_code == 200 and response.streaming
    rows = [json.loads(line) for line in b"".join(response.streaming_content).decode().splitlines()]
    assert len(rows) == mix.total_count
    synthetic_row = next(row for row in rows if row["origin"] == "synthetic")
    assert synthetic_row["generator"] == "sim-llm" and synthetic_row["dataset"] == "syn-tickets"
    response = client.get(f"/api/training/mixes/{mix.pk}/parquet/")
    table = pq.read_table(io.BytesIO(b"".join(response.streaming_content)))
    assert table.num_rows == mix.total_count and "prompt_hash" in table.column_names
    assert sorted(table.column("example_id").to_pylist()) == sorted(row["example_id"] for row in rows)
