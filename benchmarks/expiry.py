"""The daily expiry job over a large catalog.

    python benchmarks/expiry.py [--versions 100000] [--due 10000] [--per-dataset 10] [--repeats 3]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/careful_bench_gov nice python benchmarks/expiry.py
    python benchmarks/expiry.py --smoke   # two small sizes: fails if the query count grows with N

Builds ``versions`` approved versions (``per-dataset`` per dataset), of which
``due`` have an expiry date in the past, then times
``governance.services.expire_due_versions()`` (claim by compare-and-set UPDATE,
Transition rows, history rows, owner notices, the state-changed signal, in
chunks of 1,000; the scorecard snapshots go to one background task per chunk)
and counts its queries; then runs it again (idempotency: it must change
nothing). Baseline in the same process: the bare set-based UPDATE that flips
the same rows and records nothing, rolled back. Rounds alternate baseline and
job; between rounds the due versions are put back (state, transitions,
history, notices removed). Last, the background task's cost per version is
measured on one chunk.
"""
import argparse
import datetime
import time

from _setup import add_common_arguments, alternate, ratios, repeats, require_constant, scratch_database, spread


def build(n_versions, n_due, per_dataset):
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from registry.models import Dataset, DatasetVersion, Manifest, Tenant

    tenant = Tenant.objects.create(slug="bench", name="Bench")
    owner = get_user_model().objects.create(username="owner")
    n_datasets = -(-n_versions // per_dataset)
    datasets = Dataset.objects.bulk_create(
        [Dataset(slug=f"d{i}", name=f"D{i}", tenant=tenant, owner=owner, kind="synthetic") for i in range(n_datasets)],
        batch_size=5000,
    )
    versions = DatasetVersion.objects.bulk_create(
        [DatasetVersion(dataset=datasets[i // per_dataset], number=i % per_dataset + 1, state="approved",
                        created_by=owner) for i in range(n_versions)],
        batch_size=5000,
    )
    today = timezone.localdate()
    # Spread the due versions evenly through the table, as real expiry dates are.
    step = n_versions // n_due
    due = {i * step for i in range(n_due)}
    Manifest.objects.bulk_create(
        [Manifest(version=v, owner=owner, intended_uses=["training"], content_hash="0" * 64,
                  expires_at=today - datetime.timedelta(days=1) if i in due else today + datetime.timedelta(days=90))
         for i, v in enumerate(versions)],
        batch_size=5000,
    )
    return today


def raw_update_seconds(today):
    """The floor: flip the due rows in one statement, record nothing, roll back."""
    from django.db import connection, transaction

    sql = (
        "UPDATE registry_datasetversion SET state = 'expired' WHERE state = 'approved' AND id IN "
        "(SELECT version_id FROM registry_manifest WHERE expires_at < %s)"
    )
    with transaction.atomic():
        with connection.cursor() as cursor:
            start = time.perf_counter()
            cursor.execute(sql, [today])
            elapsed = time.perf_counter() - start
            flipped = cursor.rowcount
        transaction.set_rollback(True)
    return elapsed, flipped


def reset_due(today):
    """Undo the job: the due versions approved again, their records gone. The
    governance logs are append-only on PostgreSQL (a trigger): scratch data
    only, so the reset runs with triggers off (session_replication_role)."""
    from django.db import connection

    from governance.models import Notice, Transition
    from registry.models import DatasetVersion

    postgres = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if postgres:
            cursor.execute("SET session_replication_role = replica")
        DatasetVersion.history.filter(state="expired").delete()
        Transition.objects.filter(action="expire").delete()
        Notice.objects.filter(kind="expired").delete()
        DatasetVersion.objects.filter(state="expired").update(state="approved")
        if postgres:
            cursor.execute("SET session_replication_role = DEFAULT")


def run_job(queries_seen):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from governance.services import expire_due_versions

    connection.queries_log.clear()  # full from earlier work, it would count nothing new
    with CaptureQueriesContext(connection) as queries:
        start = time.perf_counter()
        expired = expire_due_versions()
        elapsed = time.perf_counter() - start
    queries_seen.append((expired, len(queries.captured_queries)))
    return elapsed


def snapshot_task_seconds(sample):
    """The background half: the scorecard task over ``sample`` expired versions."""
    from registry.models import DatasetVersion
    from scorecard.tasks import record_snapshots_task

    ids = list(DatasetVersion.objects.filter(state="expired").order_by("pk").values_list("pk", flat=True)[:sample])
    start = time.perf_counter()
    record_snapshots_task.apply(args=[ids])
    return (time.perf_counter() - start) / len(ids), len(ids)


def measure(args, rounds):
    from django.db import connection

    from governance.models import Notice, Transition
    from registry.models import DatasetVersion

    started = time.perf_counter()
    today = build(args.versions, args.due, args.per_dataset)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(f"built {args.versions:,} approved versions ({args.due:,} due) in {time.perf_counter() - started:.1f} s"
          f" on {connection.vendor}")
    flipped = []
    queries = []

    def baseline():
        elapsed, rows = raw_update_seconds(today)
        flipped.append(rows)
        return elapsed

    samples = alternate({"baseline": baseline, "job": lambda: run_job(queries)}, rounds,
                        reset=lambda: reset_due(today))
    assert set(flipped) == {args.due}, flipped
    assert {expired for expired, _ in queries} == {args.due}, queries
    run_job(queries)  # leaves the versions expired
    assert Transition.objects.filter(action="expire").count() == args.due
    assert DatasetVersion.history.filter(state="expired").count() == args.due
    again = run_job(queries)
    assert queries[-1][0] == 0 and Transition.objects.count() == args.due
    job_queries = queries[0][1]
    print(f"baseline raw UPDATE (no records):  {spread(samples['baseline'], 1000, 'ms', '.1f')}  ({args.due:,} rows)")
    print(f"expire_due_versions():             {spread(samples['job'], 1000, 'ms', '.1f')}  ({args.due:,} expired, "
          f"{job_queries} queries, {Notice.objects.count():,} notices)")
    print(f"second run (idempotent):           {again * 1000:9.1f} ms  (0 expired, {queries[-1][1]} queries)")
    print(f"ratio job / raw UPDATE:            {ratios(samples['job'], samples['baseline'])}")
    per_version, sampled = snapshot_task_seconds(min(args.due, 200))
    print(f"background scorecard task:         {per_version * 1000:9.1f} ms per version ({sampled} measured; "
          f"~{per_version * args.due:.0f} s of worker time for {args.due:,}, off the job's path)")
    return job_queries


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--versions", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=10_000)
    parser.add_argument("--per-dataset", type=int, default=10)
    add_common_arguments(parser)
    args = parser.parse_args()
    # Smoke: two sizes of whole 1,000-row chunks (SQLite splits partial ones differently): a per-version query shows as growth.
    sizes = [(4000, 2000), (8000, 4000)] if args.smoke else [(args.versions, args.due)]
    counts = {}
    for versions, due in sizes:
        args.versions, args.due = versions, due
        teardown = scratch_database()
        try:
            # Per chunk the job's queries are constant: compare per chunk of 1,000.
            counts[due] = measure(args, repeats(args)) / -(-due // 1000)
        finally:
            teardown()
    if args.smoke:
        require_constant("expiry job queries per 1,000-version chunk", counts)


if __name__ == "__main__":
    main()
