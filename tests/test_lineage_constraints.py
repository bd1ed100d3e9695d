"""Database invariants of examples, on both databases: the CHECK, UNIQUE and
FK constraints, and the freeze of non-draft versions (triggers)."""
import pytest
from django.db import IntegrityError, connection, transaction

from registry import services
from registry.errors import Conflict
from registry.models import DatasetVersion, Example, IngestionStatus

from .lineage_helpers import build_lineage_world, ingest, synthetic_row, write_jsonl

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("workflow_policy")]

INSERT = """INSERT INTO registry_example (version_id, ordinal, text, content_hash, dup_rank, label, origin,
    generator_id, prompt_template_id, prompt_hash, seed_example_id, seed_external_id, sampling_params, intended_use,
    eval_exclusion, never_train_on) VALUES (%s, %s, 'raw', %s, %s, '', %s, %s, NULL, %s, %s, '', '{}', '', %s, %s)"""


@pytest.fixture
def world(alice, tenant_a, tmp_path):
    return build_lineage_world(alice, tenant_a, tmp_path)


def raw_insert(version_id, *, ordinal=1, content="c" * 64, dup_rank=0, origin="synthetic", generator_id=None,
               prompt_hash="", seed_id=None):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(INSERT, [version_id, ordinal, content, dup_rank, origin, generator_id, prompt_hash, seed_id,
                                False, False])


def test_the_database_refuses_a_synthetic_row_without_provenance(world):
    with pytest.raises(IntegrityError, match="example_synthetic_has_provenance|CHECK"):
        raw_insert(world.version.pk, generator_id=None, prompt_hash="ab" * 32)
    with pytest.raises(IntegrityError, match="example_synthetic_has_provenance|CHECK"):
        raw_insert(world.version.pk, generator_id=world.generator.pk, prompt_hash="")
    raw_insert(world.version.pk, generator_id=world.generator.pk, prompt_hash="ab" * 32)
    raw_insert(world.version.pk, ordinal=2, content="d" * 64, origin="real")
    assert Example.objects.filter(version=world.version).count() == 2


def test_content_is_unique_per_version_unless_ranked_as_a_duplicate(world):
    raw_insert(world.version.pk, origin="real")
    with pytest.raises(IntegrityError):
        raw_insert(world.version.pk, ordinal=2, origin="real")
    raw_insert(world.version.pk, ordinal=2, origin="real", dup_rank=1)
    assert Example.objects.filter(version=world.version, content_hash="c" * 64).count() == 2


@pytest.mark.parametrize("column", ["generator_id", "seed_id"])
def test_lineage_references_must_exist(world, column):
    with pytest.raises(IntegrityError):
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # Django's FKs are deferred to commit
            raw_insert(world.version.pk, origin="real", **{column: 987654})
            if connection.vendor == "sqlite":
                connection.check_constraints()  # SQLite checks deferred FKs at commit


def approve(version):
    # Governance owns the transition; the freeze only needs the state.
    DatasetVersion.objects.filter(pk=version.pk).update(state="approved")
    version.refresh_from_db()


def test_an_approved_versions_examples_cannot_change(world, tmp_path):
    rows = [synthetic_row(1, eval_exclusion=True)]
    job = ingest(world.owner, world.version, write_jsonl(tmp_path / "rows.jsonl", rows))
    assert job.status == IngestionStatus.SUCCEEDED
    approve(world.version)
    example = Example.objects.get(version=world.version)
    with pytest.raises(IntegrityError, match="immutable"):
        with transaction.atomic():
            Example.objects.filter(pk=example.pk).update(label="chargeback_dispute")
    with pytest.raises(IntegrityError, match="immutable"):
        with transaction.atomic():
            Example.objects.filter(pk=example.pk).update(eval_exclusion=False)
    with pytest.raises(IntegrityError, match="immutable"):
        raw_insert(world.version.pk, ordinal=2, origin="real")
    # Tightening a flag stays possible (training designates evaluation sets this way).
    assert Example.objects.filter(pk=example.pk).update(never_train_on=True) == 1
    with pytest.raises(Conflict):
        services.register_examples_file(actor=world.owner, version=world.version, path=tmp_path / "rows.jsonl")


@pytest.mark.postgres_only
def test_an_approved_versions_examples_cannot_be_deleted(world, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no DELETE trigger (see migration 0004)")
    ingest(world.owner, world.version, write_jsonl(tmp_path / "rows.jsonl", [synthetic_row(1)]))
    approve(world.version)
    with pytest.raises(IntegrityError, match="immutable"):
        with transaction.atomic():
            Example.objects.filter(version=world.version).delete()


def test_a_draft_version_can_still_be_deleted_with_its_examples(world, tmp_path):
    ingest(world.owner, world.version, write_jsonl(tmp_path / "rows.jsonl", [synthetic_row(1)]))
    world.version.ingestion_jobs.all().delete()
    world.version.delete()
    assert not Example.objects.filter(version_id=world.version.pk).exists()


def test_an_approved_versions_manifest_cannot_change(world):
    approve(world.version)
    with pytest.raises(Conflict):
        services.update_manifest(actor=world.owner, version=world.version, data={"purpose_gap": "changed"})
    with pytest.raises(IntegrityError, match="immutable"):
        with transaction.atomic():
            type(world.version.manifest).objects.filter(version=world.version).update(purpose_gap="changed")
