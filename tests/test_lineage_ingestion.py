"""Ingestion: all rows with their lineage and aggregates, or nothing with an
error list naming line and field."""
import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.core.management import call_command

from registry.lineage import content_hash, normalize_text
from registry.models import Example, IngestionStatus, VersionLineage

from .lineage_helpers import build_lineage_world, ingest, synthetic_row, write_csv, write_jsonl

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(alice, tenant_a, tmp_path):
    return build_lineage_world(alice, tenant_a, tmp_path)


def test_normalization_ignores_invisible_differences_but_keeps_case():
    assert normalize_text("  Cafe\u0301 \t refund\n\nnow ") == "Café refund now"
    assert content_hash(text="Café refund now") == content_hash(text="Cafe\u0301  refund\nnow")
    assert content_hash(text="REFUND NOW") != content_hash(text="refund now")
    assert content_hash(data={"b": " x  y", "a": 1}) == content_hash(data={"a": 1, "b": "x y"})


def test_a_jsonl_file_is_written_with_lineage_and_stored_aggregates(world, tmp_path):
    rows = [synthetic_row(i) for i in range(5)] + [synthetic_row(9, template_name=None, template_version=None,
                                                                  prompt_hash="ab" * 32, seed_ordinal=None)]
    job = ingest(world.owner, world.version, write_jsonl(tmp_path / "rows.jsonl", rows))
    assert job.status == IngestionStatus.SUCCEEDED, job.errors
    assert (job.rows_written, job.rows_processed, job.rows_total) == (6, 6, 6)
    first = Example.objects.get(version=world.version, ordinal=1)
    assert first.generator == world.generator and first.prompt_template == world.template
    assert first.prompt_hash == world.template.body_sha256
    assert first.seed_example.version == world.anchor_version and first.seed_example.ordinal == 1
    assert first.content_hash == content_hash(text=rows[0]["text"])
    lineage = VersionLineage.objects.get(version=world.version)
    assert (lineage.total, lineage.synthetic, lineage.synthetic_complete, lineage.prompt_hash_only) == (6, 6, 5, 1)
    assert lineage.by_label == {"gdpr_erasure": 6} and lineage.by_template == {str(world.template.pk): 5}


def test_csv_and_parquet_give_the_same_rows(world, tmp_path):
    rows = [synthetic_row(i, eval_exclusion=True) for i in range(3)]
    csv_job = ingest(world.owner, world.version, write_csv(tmp_path / "rows.csv", rows))
    assert csv_job.status == IngestionStatus.SUCCEEDED, csv_job.errors
    table = pa.Table.from_pylist([synthetic_row(i + 10, sampling_params='{"top_p": 0.9}') for i in range(3)])
    pq.write_table(table, tmp_path / "rows.parquet")
    parquet_job = ingest(world.owner, world.version, tmp_path / "rows.parquet")
    assert parquet_job.status == IngestionStatus.SUCCEEDED, parquet_job.errors
    stored = list(Example.objects.filter(version=world.version).order_by("ordinal"))
    assert [e.ordinal for e in stored] == [1, 2, 3, 4, 5, 6]
    assert stored[0].eval_exclusion and stored[0].sampling_params == {"temperature": 0.9}
    assert stored[3].sampling_params == {"top_p": 0.9} and not stored[3].eval_exclusion
    assert VersionLineage.objects.get(version=world.version).total == 6


BAD_INPUTS = [
    ("broken JSON line", '{"text": "x", "origin": ', 3, "line", "broken JSON"),
    ("missing field", {"text": "no origin here"}, 3, "origin", "required"),
    ("wrong type", synthetic_row(50, label=7), 3, "label", "must be a string"),
    ("unknown generator", synthetic_row(51, generator_name="ghost-llm"), 3, "generator_name", "unknown generator"),
    ("synthetic without provenance", synthetic_row(52, generator_name=None, generator_version=None),
     3, "generator_name", "must name its generator"),
    ("synthetic without prompt", synthetic_row(53, template_name=None, template_version=None),
     3, "prompt_hash", "must name its prompt"),
    ("oversized field", synthetic_row(54, text="x" * 100_001), 3, "text", "the limit is 100,000"),
    ("unknown seed", synthetic_row(55, seed_ordinal=99), 3, "seed_ordinal", "no example #99"),
]


@pytest.mark.parametrize("kind, bad, line, field, message", BAD_INPUTS, ids=[case[0] for case in BAD_INPUTS])
def test_a_bad_row_refuses_the_whole_upload_naming_line_and_field(world, tmp_path, kind, bad, line, field, message):
    rows = [synthetic_row(1), synthetic_row(2), bad, synthetic_row(4)]
    job = ingest(world.owner, world.version, write_jsonl(tmp_path / "bad.jsonl", rows))
    assert job.status == IngestionStatus.FAILED
    assert job.error_count == 1
    (error,) = job.errors
    assert (error["row"], error["field"]) == (line, field) and message in error["message"], error
    assert not Example.objects.filter(version=world.version).exists()
    assert not VersionLineage.objects.filter(version=world.version).exists()


def test_invalid_utf8_is_refused_by_line(world, tmp_path):
    path = write_jsonl(tmp_path / "bytes.jsonl", [synthetic_row(1)])
    with open(path, "ab") as out:
        out.write(b'{"text": "caf\xe9", "origin": "real"}\n')
    job = ingest(world.owner, world.version, path)
    assert job.status == IngestionStatus.FAILED
    assert job.errors == [{"row": 2, "field": "line", "message": "invalid UTF-8 at byte 14"}]
    assert not Example.objects.filter(version=world.version).exists()


def test_a_csv_without_a_required_column_names_it(world, tmp_path):
    path = write_csv(tmp_path / "rows.csv", [{"text": "hello", "label": "x"}])
    job = ingest(world.owner, world.version, path)
    assert job.status == IngestionStatus.FAILED
    assert job.errors == [{"row": 1, "field": "origin", "message": "missing column"}]


def test_errors_list_the_first_hundred_and_count_all(world, tmp_path):
    rows = [synthetic_row(i, origin="maybe") for i in range(150)]
    job = ingest(world.owner, world.version, write_jsonl(tmp_path / "many.jsonl", rows))
    assert job.error_count == 150 and len(job.errors) == 100
    assert job.errors[0]["row"] == 1 and job.errors[-1]["row"] == 100


def test_exact_duplicates_in_an_upload_are_reported_not_dropped(world, tmp_path):
    rows = [synthetic_row(1), synthetic_row(2), synthetic_row(1, text="Ticket 1:  please erase all my personal data now ")]
    job = ingest(world.owner, world.version, write_jsonl(tmp_path / "dups.jsonl", rows))
    assert job.status == IngestionStatus.FAILED
    assert job.errors == [{"row": 3, "field": "text", "message": "exact duplicate of line 1"}]
    assert not Example.objects.filter(version=world.version).exists()
    ingest(world.owner, world.version, write_jsonl(tmp_path / "one.jsonl", rows[:1]))
    again = ingest(world.owner, world.version, write_jsonl(tmp_path / "again.jsonl", rows[1:]))
    assert again.errors == [{"row": 2, "field": "text", "message": "already in this version as example #1"}]


def test_allowed_duplicates_are_numbered_by_dup_rank(alice, tenant_a, tmp_path):
    world = build_lineage_world(alice, tenant_a, tmp_path, slug="dups", allow_duplicates=True)
    rows = [synthetic_row(1), synthetic_row(2), synthetic_row(1)]
    first = ingest(alice, world.version, write_jsonl(tmp_path / "dups.jsonl", rows))
    second = ingest(alice, world.version, write_jsonl(tmp_path / "more.jsonl", rows[:1]))
    assert first.counts["duplicates"] == 1 and second.status == IngestionStatus.SUCCEEDED
    ranks = list(Example.objects.filter(version=world.version).order_by("ordinal").values_list("ordinal", "dup_rank"))
    assert ranks == [(1, 0), (2, 0), (3, 1), (4, 2)]


def test_the_cli_shows_progress_and_the_result(world, tmp_path):
    path = write_jsonl(tmp_path / "cli.jsonl", [synthetic_row(i) for i in range(2500)])
    out, err = io.StringIO(), io.StringIO()
    call_command("ingest_examples", world.version.dataset.slug, str(world.version.number), str(path),
                 stdout=out, stderr=err)
    assert "Ingested 2500 examples" in out.getvalue()
    assert "2500/2500" in err.getvalue() and "rows" in err.getvalue()


def test_the_cli_lists_errors_and_exits_non_zero(world, tmp_path):
    path = write_jsonl(tmp_path / "cli.jsonl", [synthetic_row(1), synthetic_row(2, generator_version="9")])
    err = io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("ingest_examples", world.version.dataset.slug, str(world.version.number), str(path),
                     stdout=io.StringIO(), stderr=err)
    assert exit_info.value.code == 1
    assert "line 2: generator_name: unknown generator sim-llm@9" in err.getvalue()
    assert "nothing was written" in err.getvalue()
