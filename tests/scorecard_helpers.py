"""Shared set-up for the scorecard tests: a draft synthetic version carrying
every piece of catalog evidence (purpose, flagged real anchor, ratio cap,
hashed manifest, uses, tenant scope, expiry, ingested examples with complete
lineage) and a test policy requiring exactly the checks that evidence answers."""
from dataclasses import dataclass

from registry import services as registry_services
from registry.models import Generator, IngestionStatus, PromptTemplate
from scorecard import services
from scorecard.models import ScorecardPolicy
from scorecard.policy_defaults import install_defaults

from .factories import make_dataset, make_version, policy_admin
from .lineage_helpers import ingest, synthetic_row, write_jsonl

# The checks the catalog and the lineage aggregates answer, by letter.
CATALOG_EVIDENCE = {
    "C.purpose_worksheet": {}, "A.real_anchor": {}, "A.ratio_cap_set": {}, "R.lineage_complete": {"min_share": 1.0},
    "R.templates_versioned": {}, "R.manifest_hashed": {}, "U.uses_declared": {}, "U.tenant_scope_set": {},
    "U.lifecycle_state": {}, "L.expiry_set": {"max_days": 365},
}


@dataclass
class Evidence:
    owner: object
    anchor: object
    anchor_version: object
    version: object


def flagged_anchor(owner, tenant, slug="sc-anchor", **flags):
    anchor = make_dataset(owner, tenant, slug, kind="real_anchor", name="Real anchor")
    manifest = {"intended_uses": ["evaluation"], "prohibited_uses": ["training"], "never_train_on": True,
                "eval_exclusion": True, **flags}
    return anchor, make_version(owner, anchor, **manifest)


def build_evidence(owner, tenant, tmp_path, *, slug="sc-synth", rows=3, **manifest):
    if not Generator.objects.filter(name="sim-llm", version="2026-09").exists():
        registry_services.register_generator(actor=owner, name="sim-llm", version="2026-09")
    if not PromptTemplate.objects.filter(tenant=tenant, name="ticket").exists():
        registry_services.create_prompt_template(actor=owner, tenant=tenant, name="ticket", body="Write a {intent} ticket.")
    anchor, anchor_version = flagged_anchor(owner, tenant, f"{slug}-anchor")
    seed_rows = [{"text": f"Real ticket {i}: delete my data", "label": "gdpr_erasure", "origin": "real"}
                 for i in range(1, 3)]
    assert ingest(owner, anchor_version, write_jsonl(tmp_path / f"{slug}-anchor.jsonl", seed_rows)).status == "succeeded"
    version = make_version(owner, make_dataset(owner, tenant, slug), real_anchor=anchor, **manifest)
    if rows:
        job = ingest(owner, version, write_jsonl(tmp_path / f"{slug}.jsonl", [
            synthetic_row(i, seed_ordinal=None, seed_external_id=f"seed-{i}") for i in range(1, rows + 1)
        ]))
        assert job.status == IngestionStatus.SUCCEEDED, job.errors
    return Evidence(owner, anchor, anchor_version, version)


def set_policy(use="training", harm="medium", cheap_verifier=False, **changes):
    """Change one cell's policy as the registry's policy admin would."""
    # A transactional test before this one flushed the migration's rows: put them back.
    install_defaults(ScorecardPolicy, overwrite=False)
    policy = ScorecardPolicy.objects.get(use_cell=use, harm=harm, cheap_verifier=cheap_verifier)
    return services.update_policy(actor=policy_admin(), policy=policy, **changes)


def letters(scorecard):
    return {row.letter: str(row.status) for row in scorecard.letters}


def check(scorecard, code):
    return next(c for row in scorecard.letters for c in row.checks if c.code == code)
