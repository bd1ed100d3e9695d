"""Tenant A's lineage objects for the isolation walk: examples (with MARKER in
their text), an ingestion job, and the routes that open them."""
import json
import tempfile
from pathlib import Path

from registry import services


def extend_world(world):
    path = Path(tempfile.mkdtemp()) / "alphasecret.jsonl"
    path.write_text(json.dumps({"text": "alphasecret ticket", "origin": "real", "label": "alphasecret"}) + "\n")
    job = services.register_examples_file(actor=world.owner, version=world.version, path=path)
    job = services.run_ingestion(job_id=job.pk)
    world.extra["ingestion_job"] = job
    world.extra["example"] = world.version.examples.get()


def _version(w):
    return {"slug": w.dataset.slug, "number": w.version.number}


ROUTE_KWARGS = {
    "example-detail": lambda w: {"pk": w.extra["example"].pk},
    "ingestionjob-detail": lambda w: {"pk": w.extra["ingestion_job"].pk},
    "version-lineage": lambda w: {"pk": w.version.pk},
    "version-diff": lambda w: {"pk": w.version.pk},
    "lineage-page": _version,
    "examples-page": _version,
    "versiondiff-page": _version,
    "example-page": lambda w: {**_version(w), "ordinal": w.extra["example"].ordinal},
    "ingestionjob-page": lambda w: {"pk": w.extra["ingestion_job"].pk},
}
