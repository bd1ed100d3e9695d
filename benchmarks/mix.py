"""Training-mix build and leakage-scan speed.

    python benchmarks/mix.py [--synthetic 1000000] [--real 100000] [--eval 10000] [--skip-scan]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/careful_bench_training nice python benchmarks/mix.py

Rows are written with raw COPY (PostgreSQL) or executemany (SQLite). Then:
1. the guard query alone (flagged rows of the components, partial index), with its plan;
2. a whole mix build (guard, ratio cap 0.8, stratified downsampling, COPY of the
   selection, manifest) against the baseline "raw SELECT of the same rows +
   plain numpy uniform sampling" in the same process;
3. a leakage scan of the eval set against the synthetic + real versions, against
   the baseline "raw SELECT of the candidate texts + the bare MinHash signatures".
"""
import argparse
import time

import numpy as np
from _setup import scratch_database

LABELS = ["billing", "refund", "gdpr_erasure", "chargeback", "regulator", "closure", "shipping", "login"]
LABEL_WEIGHTS = np.array([30, 25, 10, 8, 2, 10, 10, 5], dtype=float) / 100
WORDS = [f"w{i}" for i in range(5000)]
PLANTED = 50  # exact copies, near copies and seed echoes of eval items each


def _texts(rng, n, prefix):
    lengths = rng.integers(8, 40, n)
    words = rng.integers(0, len(WORDS), lengths.sum())
    out, start = [], 0
    for i, length in enumerate(lengths):
        out.append(f"{prefix}{i} " + " ".join(WORDS[w] for w in words[start:start + length]))
        start += length
    return out


def _labels(rng, n):
    return rng.choice(LABELS, n, p=LABEL_WEIGHTS).tolist()


def _setup_catalog(args):
    from django.contrib.auth import get_user_model
    from registry import services as registry_services
    from registry.choices import Role, Use
    from registry.models import Membership, Tenant

    from training import services

    user = get_user_model().objects.create_user("bench")
    tenant = Tenant.objects.create(slug="bench", name="Bench")
    for role in (Role.CONTRIBUTOR, Role.TENANT_ADMIN):
        Membership.objects.create(user=user, tenant=tenant, role=role)
    generator = registry_services.register_generator(actor=user, name="bench-llm", version="1")

    def version(slug, kind, **manifest):
        dataset = registry_services.create_dataset(actor=user, tenant=tenant, slug=slug, name=slug, kind=kind)
        data = {"intended_uses": [Use.TRAINING], "tenant_scope": [tenant], "purpose_gap": "benchmark",
                "purpose_why_not_real": "benchmark", "purpose_success_criterion": "benchmark", **manifest}
        return registry_services.create_version(actor=user, dataset=dataset, manifest=data)

    versions = {
        "synthetic": version("bench-synthetic", "synthetic", max_synthetic_ratio=0.8),
        "real": version("bench-real", "real_holdout"),
        "eval": version("bench-eval", "real_holdout", use_cell=Use.EVALUATION, intended_uses=[Use.EVALUATION],
                        prohibited_uses=[Use.TRAINING]),
    }
    family = services.create_model_family(actor=user, tenant=tenant, name="bench-family")
    return user, tenant, family, generator, versions


def _approve(versions, user, tenant):
    """Through the governance workflow, after the rows are in (approved versions are frozen)."""
    from django.contrib.auth import get_user_model
    from governance import services as governance
    from governance.models import Decision
    from registry.choices import Role
    from registry.models import DatasetVersion, Membership

    signers = []
    for role in (Role.LEGAL_REVIEWER, Role.GOVERNANCE_REVIEWER):
        signer = get_user_model().objects.create_user(f"bench-{role}")
        Membership.objects.create(user=signer, tenant=tenant, role=role)
        signers.append((signer, role))
    for version in versions.values():
        governance.submit_for_review(actor=user, version=version)
        for signer, role in signers:
            governance.sign_off(actor=signer, version=version, role=role, decision=Decision.APPROVE)
    fresh = DatasetVersion.objects.select_related("dataset", "manifest")
    return {key: fresh.get(pk=version.pk) for key, version in versions.items()}


COLUMNS = ("version_id", "ordinal", "text", "content_hash", "dup_rank", "label", "origin", "generator_id",
           "prompt_hash", "seed_example_id", "seed_external_id", "sampling_params", "intended_use",
           "eval_exclusion", "never_train_on")


def _copy_rows(rows):
    from django.db import connection, transaction

    # One transaction: SQLite in autocommit would sync the file once per row.
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY registry_example ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            sql = f"INSERT INTO registry_example ({', '.join(COLUMNS)}) VALUES ({', '.join(['%s'] * len(COLUMNS))})"
            cursor.executemany(sql, rows)


def _rows(version_id, texts, labels, origin, generator_id=None, seeds=None):
    from registry.lineage import content_hash

    synthetic = origin == "synthetic"
    for i, text in enumerate(texts):
        yield (
            version_id, i + 1, text, content_hash(text=text), 0, labels[i], origin,
            generator_id if synthetic else None, "p" * 64 if synthetic else "",
            seeds[i] if seeds is not None and seeds[i] else None, "", "{}", "", False, False,
        )


def populate(args):
    from registry.models import Example

    from training import services

    rng = np.random.default_rng(11)
    user, tenant, family, generator, versions = _setup_catalog(args)
    started = time.perf_counter()
    eval_texts = _texts(rng, args.eval, "eval")
    _copy_rows(_rows(versions["eval"].pk, eval_texts, _labels(rng, args.eval), "real"))
    eval_ids = list(Example.objects.filter(version=versions["eval"]).order_by("ordinal").values_list("id", flat=True))
    _copy_rows(_rows(versions["real"].pk, _texts(rng, args.real, "real"),
                     _labels(rng, args.real), "real"))
    synthetic_texts = _texts(rng, args.synthetic, "syn")
    # A quarter of the synthetic rows were generated from one of 2,000 real seed tickets.
    real_ids = Example.objects.filter(version=versions["real"]).order_by("id").values_list("id", flat=True)
    real_seeds = list(real_ids[:2000])
    picks = rng.integers(0, len(real_seeds), args.synthetic)
    seeds = [real_seeds[p] if i % 4 == 0 else 0 for i, p in enumerate(picks.tolist())]
    # Planted leaks: exact copies, near copies (one word appended) and seed echoes of eval items.
    for k in range(PLANTED):
        synthetic_texts[3 * k] = eval_texts[k]
        synthetic_texts[3 * k + 1] = eval_texts[PLANTED + k] + " appended"
        seeds[3 * k + 2] = eval_ids[2 * PLANTED + k]
    _copy_rows(_rows(versions["synthetic"].pk, synthetic_texts, _labels(rng, args.synthetic),
                     "synthetic", generator.pk, seeds))
    versions = _approve(versions, user, tenant)
    evaluation_set = services.designate_evaluation_set(actor=user, family=family, version=versions["eval"])
    print(f"set-up: {args.synthetic + args.real + args.eval:,} rows in {time.perf_counter() - started:.1f} s")
    return user, tenant, family, versions, evaluation_set


def _analyze():
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE registry_example")


def explain_guard(version_ids):
    from django.db import connection

    from training.selectors import GUARD_SQL

    ids = ", ".join(str(v) for v in version_ids)
    prefix = "EXPLAIN ANALYZE " if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN "
    with connection.cursor() as cursor:
        cursor.execute(prefix + GUARD_SQL.format(ids=ids).replace("%s", "21"))
        return "\n".join("    " + " | ".join(str(c) for c in row if c is not None) for row in cursor.fetchall())


def seconds(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def bench_mix(user, tenant, family, versions):
    from django.db import connection

    from training import selectors, services
    from training.mixing import POOL_SQL

    components = [versions["synthetic"], versions["real"]]
    ids = [v.pk for v in components]
    guard_s, (rows, total) = seconds(lambda: selectors.flagged_rows(ids))
    assert total == 0, rows
    print(f"guard query: {guard_s * 1000:.1f} ms (0 flagged rows among the components)")
    print(explain_guard(ids))
    eval_guard_s, (_, flagged) = seconds(lambda: selectors.flagged_rows(ids + [versions["eval"].pk]))
    print(f"guard query with the eval set among the components: {eval_guard_s * 1000:.1f} ms ({flagged:,} flagged)")

    def baseline():
        with connection.cursor() as cursor:
            cursor.execute(POOL_SQL.format(ids=", ".join(map(str, ids))))
            pool = cursor.fetchall()
        synthetic = np.array([row[2] == "synthetic" for row in pool])
        real = int((~synthetic).sum())
        keep = np.random.default_rng(1).choice(np.flatnonzero(synthetic), size=min(4 * real, synthetic.sum()),
                                               replace=False)
        return len(keep) + real

    baseline_s, baseline_rows = seconds(baseline)
    build_s, mix = seconds(lambda: services.build_training_mix(
        actor=user, tenant=tenant, family=family, name="bench-mix", components=components, seed=1
    ))
    assert mix.total_count == baseline_rows, (mix.total_count, baseline_rows)
    print(f"mix build: {build_s:.2f} s for {mix.total_count:,} rows kept ({mix.real_count:,} real, "
          f"{mix.synthetic_count:,} of {mix.synthetic_pool_count:,} synthetic; ratio {mix.synthetic_ratio:.6f} "
          f"<= cap {mix.max_synthetic_ratio})")
    print(f"baseline (raw SELECT + numpy uniform sample): {baseline_s:.2f} s -> ratio {build_s / baseline_s:.1f}x")
    labels = mix.labels_after
    print("labels kept (synthetic): " + ", ".join(f"{k} {v['synthetic']:,}" for k, v in sorted(labels.items())))
    return {"guard_s": guard_s, "build_s": build_s, "baseline_s": baseline_s, "rows": mix.total_count}


def bench_scan(user, versions, evaluation_set):
    from django.db import connection
    from gates import minhash
    from tqdm import tqdm

    from training import services

    candidates = [versions["synthetic"], versions["real"]]
    ids = ", ".join(str(v.pk) for v in candidates)

    def baseline():
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT text FROM registry_example WHERE version_id IN ({ids})")
            texts = [row[0] for row in cursor.fetchall()]
        for start in range(0, len(texts), 50000):
            minhash.signatures(texts[start:start + 50000])
        return len(texts)

    scan = services.request_leakage_scan(actor=user, evaluation_set=evaluation_set, candidates=candidates,
                                         enqueue=False)
    with tqdm(total=sum(v.examples.count() for v in candidates), unit="rows", mininterval=5) as bar:
        scan_s, scan = seconds(lambda: services.run_leakage_scan(scan_id=scan.pk, progress=bar.update))
    baseline_s, _ = seconds(baseline)
    print(f"leakage scan: {scan_s:.1f} s, {scan.eval_items:,} eval items x {scan.candidate_items:,} rows: "
          f"{scan.exact_pairs} exact, {scan.near_pairs} near, {scan.seed_pairs} seed pairs (planted {PLANTED} each)")
    print(f"baseline (raw SELECT of the texts + bare MinHash signatures): {baseline_s:.1f} s -> "
          f"ratio {scan_s / baseline_s:.2f}x")
    return {"scan_s": scan_s, "baseline_s": baseline_s}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--synthetic", type=int, default=1_000_000)
    parser.add_argument("--real", type=int, default=100_000)
    parser.add_argument("--eval", type=int, default=10_000)
    parser.add_argument("--skip-scan", action="store_true")
    args = parser.parse_args()
    teardown = scratch_database()
    try:
        from django.db import connection

        user, tenant, family, versions, evaluation_set = populate(args)
        _analyze()
        print(f"database: {connection.vendor}")
        bench_mix(user, tenant, family, versions)
        if not args.skip_scan:
            bench_scan(user, versions, evaluation_set)
    finally:
        teardown()


if __name__ == "__main__":
    main()
