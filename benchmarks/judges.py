"""Judge score upload and review-queue speed.

    python benchmarks/judges.py [N] [--repeats 3]  # N examples, two judges: 2N scores (default 50,000)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/careful_bench_judges python benchmarks/judges.py 50000
    python benchmarks/judges.py --smoke

Set-up (not timed): a draft synthetic version of N examples written with one
bulk_create, and a two-judge panel (disagreement > 0.3, calibration rate 0.05).
Then, each against the baseline "bulk_create of the same 2N JudgeScore rows,
nothing validated, no queue" in the same process:
1. the first upload through ``upload_judge_scores`` (every row validated, scores
   written, queue computed: ~10% disagreements + the calibration sample);
2. the same upload again (idempotent: nothing written, queue unchanged);
3. a re-score of 10% of one judge's scores (replaced, open items withdrawn).
Each round uploads to a fresh version (its set-up untimed), alternating with
the baseline; figures are medians over ``--repeats`` rounds with their spread.
"""
import argparse
import time

import numpy as np
from _setup import add_common_arguments, alternate, ratios, repeats, scratch_database, spread


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("n", type=int, nargs="?", default=50_000)
    add_common_arguments(parser)
    args = parser.parse_args()
    teardown = scratch_database()
    try:
        run(500 if args.smoke else args.n, repeats(args))
    finally:
        teardown()


def run(n, rounds):
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from judges import services
    from judges.models import JudgeScore, ReviewItem, ScoreUpload
    from registry import services as registry_services
    from registry.choices import Role
    from registry.lineage import content_hash
    from registry.models import Example, Membership, Tenant

    user = get_user_model().objects.create_user("bench")
    tenant = Tenant.objects.create(slug="bench", name="Bench")
    for role in (Role.CONTRIBUTOR, Role.TENANT_ADMIN):
        Membership.objects.create(user=user, tenant=tenant, role=role)
    generator = registry_services.register_generator(actor=user, name="bench-llm", version="1")
    dataset = registry_services.create_dataset(actor=user, tenant=tenant, slug="judged", name="judged",
                                               kind="synthetic")
    texts = [f"bench ticket {i}" for i in range(n)]

    def new_version():
        version = registry_services.create_version(actor=user, dataset=dataset, manifest={})
        Example.objects.bulk_create(
            [Example(version=version, ordinal=i + 1, text=t, content_hash=content_hash(text=t), label="billing",
                     origin="synthetic", generator=generator, prompt_hash="p" * 64) for i, t in enumerate(texts)],
            batch_size=5000,
        )
        return version

    services.configure_panel(actor=user, dataset=dataset, judges=["a", "b"], calibration_rate=0.05, seed=1)
    rng = np.random.default_rng(7)
    a = rng.uniform(0.5, 1.0, n)
    b = np.where(rng.uniform(size=n) < 0.1, a - 0.45, a - rng.uniform(0, 0.1, n)).clip(0, 1)
    rows = [{"example": i + 1, "judge": judge, "score": round(float(s), 4)}
            for i in range(n) for judge, s in (("a", a[i]), ("b", b[i]))]

    def upload(version, payload):
        start = time.perf_counter()
        result = services.upload_judge_scores(actor=user, version=version, rows=services.rows_from_json(payload))
        return time.perf_counter() - start, result

    floor_version = new_version()
    ids = list(Example.objects.filter(version=floor_version).order_by("ordinal").values_list("pk", flat=True))

    def baseline():
        start = time.perf_counter()
        with transaction.atomic():
            record = ScoreUpload.objects.create(version=floor_version, uploaded_by=user)
            JudgeScore.objects.bulk_create(
                [JudgeScore(version=floor_version, example_id=ids[r["example"] - 1], judge=r["judge"],
                            raw_score=r["score"], score=r["score"], upload=record) for r in rows], batch_size=2000)
            elapsed = time.perf_counter() - start
            transaction.set_rollback(True)
        return elapsed

    rescored = [{**r, "score": min(1.0, r["score"] + 0.4)} for r in rows[1:n // 5:2]]  # 10% of judge b
    steps = {"first upload": [], "same upload again": [], f"re-score {len(rescored):,}": []}
    records = {}

    def product():
        version = new_version()
        for (name, times), payload in zip(steps.items(), (rows, rows, rescored)):
            seconds, records[name] = upload(version, payload)
            times.append(seconds)
        return steps["first upload"][-1]

    floor = alternate({"baseline": baseline, "product": product}, rounds)["baseline"]
    print(f"{connection.vendor}: {n:,} examples, {2 * n:,} scores; baseline bulk_create {spread(floor)}")
    for name, times in steps.items():
        record = records[name]
        print(f"  {name:<20} {spread(times)}  ({ratios(times, floor)} baseline, "
              f"{record.rows / sorted(times)[len(times) // 2]:,.0f} rows/s)  created {record.created:,} "
              f"replaced {record.replaced:,} queue {record.queue['open_disagreements']:,} disagreements / "
              f"{record.queue['open_calibration']:,} calibration, withdrawn {record.queue['withdrawn']:,}")
    print(f"  review items: {ReviewItem.objects.count():,}")


if __name__ == "__main__":
    main()
