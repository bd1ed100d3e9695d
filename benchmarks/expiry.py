"""The daily expiry job over a large catalog.

    python benchmarks/expiry.py [--versions 100000] [--due 10000] [--per-dataset 10]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/careful_bench_gov nice python benchmarks/expiry.py

Builds ``versions`` approved versions (``per-dataset`` per dataset), of which
``due`` have an expiry date in the past, then times
``governance.services.expire_due_versions()`` (claim by compare-and-set UPDATE,
Transition rows, history rows, owner notices, the state-changed signal, in
chunks of 1,000) and counts its queries; then runs it again (idempotency: it
must change nothing). Baseline in the same process: the bare set-based UPDATE
that flips the same rows and records nothing, rolled back.
"""
import argparse
import datetime
import time

from _setup import scratch_database


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


def timed_job():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from governance.services import expire_due_versions

    with CaptureQueriesContext(connection) as queries:
        start = time.perf_counter()
        expired = expire_due_versions()
        elapsed = time.perf_counter() - start
    return elapsed, expired, len(queries.captured_queries)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--versions", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=10_000)
    parser.add_argument("--per-dataset", type=int, default=10)
    args = parser.parse_args()
    teardown = scratch_database()
    try:
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
        baseline, flipped = raw_update_seconds(today)
        assert flipped == args.due, flipped
        job, expired, queries = timed_job()
        assert expired == args.due, expired
        assert Transition.objects.filter(action="expire").count() == args.due
        assert DatasetVersion.history.filter(state="expired").count() == args.due
        again, expired_again, queries_again = timed_job()
        assert expired_again == 0 and Transition.objects.count() == args.due
        print(f"baseline raw UPDATE (no records):  {baseline * 1000:9.1f} ms  ({flipped:,} rows)")
        print(f"expire_due_versions():             {job * 1000:9.1f} ms  ({expired:,} expired, {queries} queries,"
              f" {Notice.objects.count():,} notices)")
        print(f"second run (idempotent):           {again * 1000:9.1f} ms  ({expired_again} expired, "
              f"{queries_again} queries)")
        print(f"ratio job / raw UPDATE:            {job / baseline:9.1f}x")
        print(f"queries per expired version:       {queries / expired:9.4f}")
    finally:
        teardown()


if __name__ == "__main__":
    main()
