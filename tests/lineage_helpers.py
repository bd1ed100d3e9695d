"""Shared set-up for the lineage tests: a tenant with a generator, a template,
a real anchor with examples and a draft synthetic version anchored on it."""
import csv
import json
from dataclasses import dataclass

from registry import services
from registry.models import IngestionStatus

from .factories import make_dataset, make_version


@dataclass
class LineageWorld:
    owner: object
    generator: object
    template: object
    anchor_version: object
    version: object


def synthetic_row(i, **changes):
    row = {
        "text": f"Ticket {i}: please erase all my personal data now", "label": "gdpr_erasure", "origin": "synthetic",
        "generator_name": "sim-llm", "generator_version": "2026-09", "template_name": "ticket", "template_version": 1,
        "seed_ordinal": 1, "sampling_params": {"temperature": 0.9}, "intended_use": "training",
    }
    row.update(changes)
    return {key: value for key, value in row.items() if value is not None}


def write_jsonl(path, rows):
    with open(path, "w", encoding="utf-8") as out:
        for row in rows:
            out.write((row if isinstance(row, str) else json.dumps(row)) + "\n")
    return path


def write_csv(path, rows):
    fields = sorted({key for row in rows for key in row})
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=fields)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: json.dumps(v) if isinstance(v, dict) else v for k, v in row.items()})
    return path


def ingest(actor, version, path, format=None):
    job = services.register_examples_file(actor=actor, version=version, path=path, format=format)
    return services.run_ingestion(job_id=job.pk)


def build_lineage_world(owner, tenant, tmp_path, *, slug="synth", **manifest):
    generator = services.register_generator(actor=owner, name="sim-llm", version="2026-09")
    template = services.create_prompt_template(actor=owner, tenant=tenant, name="ticket", body="Write a {intent} ticket.")
    anchor = make_dataset(owner, tenant, f"{slug}-anchor", kind="real_anchor")
    anchor_version = make_version(owner, anchor, intended_uses=["evaluation"], prohibited_uses=["training"])
    anchor_rows = [{"text": f"Real ticket {i}: delete my data", "label": "gdpr_erasure", "origin": "real"}
                   for i in range(1, 4)]
    job = ingest(owner, anchor_version, write_jsonl(tmp_path / f"{slug}-anchor.jsonl", anchor_rows))
    assert job.status == IngestionStatus.SUCCEEDED, job.errors
    dataset = make_dataset(owner, tenant, slug)
    version = make_version(owner, dataset, real_anchor=anchor, **manifest)
    return LineageWorld(owner, generator, template, anchor_version, version)
