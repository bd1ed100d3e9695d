"""Training-mix build and leakage-scan speed.

    python benchmarks/mix.py [--synthetic 1000000] [--real 100000] [--eval 10000] [--skip-scan] [--repeats 3]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/careful_bench_training nice python benchmarks/mix.py
    python benchmarks/mix.py --smoke

Rows are written with raw COPY (PostgreSQL) or executemany (SQLite); the
versions are approved directly and the training cell's policy asks only for the
catalog's evidence (benchmarks/_setup.py). Then, each product run alternating
with its baseline, ``--repeats`` rounds, median and spread:
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
from _setup import (add_common_arguments, alternate, approve_directly, catalog_evidence_policy, ratios, repeats,
                    scratch_database, spread)

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
    import datetime

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from registry import services as registry_services
    from registry.choices import Role, Use
    from registry.models import Membership, Tenant
    from training import services

    user = get_user_model().objects.create_user("bench")
    tenant = Tenant.objects.create(slug="bench", name="Bench")
    for role in (Role.CONTRIBUTOR, Role.TENANT_ADMIN):
        Membership.objects.create(user=user, tenant=tenant, role=role)
    generator = registry_services.register_generator(actor=user, name="bench-llm", version="1")
    catalog_evidence_policy()
    expires_at = timezone.localdate() + datetime.timedelta(days=90)

    def version(slug, kind, **manifest):
        dataset = registry_services.create_dataset(actor=user, tenant=tenant, slug=slug, name=slug, kind=kind)
        data = {"intended_uses": [Use.TRAINING], "tenant_scope": [tenant], "purpose_gap": "benchmark",
                "purpose_why_not_real": "benchmark", "purpose_success_criterion": "benchmark",
                "expires_at": expires_at, **manifest}
        return registry_services.create_version(actor=user, dataset=dataset, manifest=data)

    versions = {
        # The medium-harm training cell caps the synthetic share at 0.5.
        "synthetic": version("bench-synthetic", "synthetic", max_synthetic_ratio=0.5),
        "real": version("bench-real", "real_holdout"),
        "eval": version("bench-eval", "real_holdout", use_cell=Use.EVALUATION, intended_uses=[Use.EVALUATION],
                        prohibited_uses=[Use.TRAINING]),
    }
    family = services.create_model_family(actor=user, tenant=tenant, name="bench-family")
    return user, tenant, family, generator, versions


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
    approved = approve_directly(list(versions.values()), tenant)
    versions = {key: approved[version.pk] for key, version in versions.items()}
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


def bench_mix(user, tenant, family, versions, rounds):
    from django.db import connection

    from training import selectors, services
    from training.mixing import POOL_SQL

    components = [versions["synthetic"], versions["real"]]
    ids = [v.pk for v in components]
    rows, total = selectors.flagged_rows(ids)
    assert total == 0, rows
    print(explain_guard(ids))
    guard = alternate({
        "guard": lambda: selectors.flagged_rows(ids) and None,
        "guard with the eval set": lambda: selectors.flagged_rows(ids + [versions["eval"].pk]) and None,
    }, max(rounds, 5))
    print(f"guard query (0 flagged rows among the components): {spread(guard['guard'], 1000, 'ms', '.1f')}")
    print(f"guard query with the eval set among the components: "
          f"{spread(guard['guard with the eval set'], 1000, 'ms', '.1f')}")

    kept = []

    def baseline():
        """The same pool read with a raw SELECT, then a plain numpy uniform sample to the same cap."""
        with connection.cursor() as cursor:
            cursor.execute(POOL_SQL.format(ids=", ".join(map(str, ids))))
            pool = cursor.fetchall()
        synthetic = np.array([row[2] == "synthetic" for row in pool])
        real = int((~synthetic).sum())
        cap = versions["synthetic"].manifest.max_synthetic_ratio
        allowed = min(int(real * cap / (1 - cap)), int(synthetic.sum()))
        keep = np.random.default_rng(1).choice(np.flatnonzero(synthetic), size=allowed, replace=False)
        kept.append(len(keep) + real)

    def product():
        kept.append(services.build_training_mix(
            actor=user, tenant=tenant, family=family, name=f"bench-mix-{len(kept)}", components=components, seed=1,
        ))

    samples = alternate({"baseline": baseline, "product": product}, rounds)
    mix = next(m for m in kept if not isinstance(m, int))
    assert all(k == mix.total_count for k in kept if isinstance(k, int)), (kept, mix.total_count)
    print(f"mix build: {spread(samples['product'])} for {mix.total_count:,} rows kept ({mix.real_count:,} real, "
          f"{mix.synthetic_count:,} of {mix.synthetic_pool_count:,} synthetic; ratio {mix.synthetic_ratio:.6f} "
          f"<= cap {mix.max_synthetic_ratio})")
    print(f"baseline (raw SELECT + numpy uniform sample): {spread(samples['baseline'])}")
    print(f"ratio mix build / baseline: {ratios(samples['product'], samples['baseline'])}")
    labels = mix.labels_after
    print("labels kept (synthetic): " + ", ".join(f"{k} {v['synthetic']:,}" for k, v in sorted(labels.items())))


def bench_scan(user, versions, evaluation_set, rounds):
    from django.db import connection

    from gates import minhash
    from training import services

    candidates = [versions["synthetic"], versions["real"]]
    ids = ", ".join(str(v.pk) for v in candidates)
    scans = []

    def baseline():
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT text FROM registry_example WHERE version_id IN ({ids})")
            texts = [row[0] for row in cursor.fetchall()]
        for start in range(0, len(texts), 50000):
            minhash.signatures(texts[start:start + 50000])

    def product():
        scan = services.request_leakage_scan(actor=user, evaluation_set=evaluation_set, candidates=candidates,
                                             enqueue=False)
        start = time.perf_counter()
        scans.append(services.run_leakage_scan(scan_id=scan.pk))
        return time.perf_counter() - start

    samples = alternate({"baseline": baseline, "product": product}, rounds)
    scan = scans[-1]
    assert (scan.exact_pairs, scan.seed_pairs) == (PLANTED, PLANTED), (scan.exact_pairs, scan.seed_pairs)
    print(f"leakage scan: {spread(samples['product'])}, {scan.eval_items:,} eval items x {scan.candidate_items:,} "
          f"rows: {scan.exact_pairs} exact, {scan.near_pairs} near, {scan.seed_pairs} seed pairs "
          f"(planted {PLANTED} each)")
    print(f"baseline (raw SELECT of the texts + bare MinHash signatures): {spread(samples['baseline'])}")
    print(f"ratio scan / baseline: {ratios(samples['product'], samples['baseline'])}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--synthetic", type=int, default=1_000_000)
    parser.add_argument("--real", type=int, default=100_000)
    parser.add_argument("--eval", type=int, default=10_000)
    parser.add_argument("--skip-scan", action="store_true")
    add_common_arguments(parser)
    args = parser.parse_args()
    if args.smoke:
        args.synthetic, args.real, args.eval = 3000, 1000, 300
    teardown = scratch_database()
    try:
        from django.db import connection

        user, tenant, family, versions, evaluation_set = populate(args)
        _analyze()
        print(f"database: {connection.vendor}")
        bench_mix(user, tenant, family, versions, repeats(args))
        if not args.skip_scan:
            bench_scan(user, versions, evaluation_set, repeats(args))
    finally:
        teardown()


if __name__ == "__main__":
    main()
