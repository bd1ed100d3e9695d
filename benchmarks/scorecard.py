"""CAREFUL scorecard latency on a version with N examples.

    python benchmarks/scorecard.py --examples 20000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/careful_bench_scorecard nice python benchmarks/scorecard.py --examples 1000000
    python benchmarks/scorecard.py --smoke   # two sizes: fails if the query count grows with N

Builds a synthetic version with N examples (raw COPY on PostgreSQL, one
executemany on SQLite), its stored lineage aggregates (what ingestion writes),
a flagged real anchor and the default policies; then times
GET /api/scorecards/<id>/?use=training through the whole stack (session auth,
scope query, every registered check of every app, serialization) and counts
its queries. Baselines in the same process, on the same database: a bare
``SELECT 1`` round trip, and the raw ``COUNT(*)`` of the version's examples
that a scorecard recounting rows would at least pay. Rounds of ``--requests``
requests alternate the three; figures are medians over ``--repeats`` rounds.
"""
import argparse

from _setup import (add_common_arguments, alternate, p95_seconds, ratios, repeats, require_constant, scratch_database,
                    spread)

BATCH = 50_000


def example_rows(version, generator, template, n):
    import hashlib

    for i in range(1, n + 1):
        text = f"Synthetic ticket {i}: please erase my personal data"
        yield {
            "version_id": version.pk, "ordinal": i, "text": text, "data": None,
            "content_hash": hashlib.sha256(text.encode()).hexdigest(), "dup_rank": 0, "label": "gdpr_erasure",
            "origin": "synthetic", "generator_id": generator.pk, "prompt_template_id": template.pk,
            "prompt_hash": "p" * 64, "seed_example_id": None, "seed_external_id": f"seed-{i % 500}",
            "sampling_params": '{"temperature": 0.9}', "intended_use": "training", "eval_exclusion": False,
            "never_train_on": False,
        }


def insert_examples(version, generator, template, n):
    """Raw bulk load, no ORM objects: COPY on PostgreSQL, executemany on SQLite."""
    from django.db import connection, transaction

    from registry.models import Example

    columns = [field.column for field in Example._meta.concrete_fields if field.column != "id"]
    rows = (tuple(row[column] for column in columns) for row in example_rows(version, generator, template, n))
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY registry_example ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            sql = f"INSERT INTO registry_example ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
            batch = []
            for row in rows:
                batch.append(row)
                if len(batch) == BATCH:
                    cursor.executemany(sql, batch)
                    batch = []
            cursor.executemany(sql, batch)


def build(n):
    import datetime

    from django.utils import timezone

    from registry import services
    from registry.choices import Role
    from registry.models import Membership, Tenant, VersionLineage
    from django.contrib.auth import get_user_model

    tenant = Tenant.objects.create(slug="bench", name="Bench")
    user = get_user_model().objects.create_user("bench-owner", password="pw-Careful-123")
    for role in (Role.CONTRIBUTOR, Role.TENANT_ADMIN):
        Membership.objects.create(user=user, tenant=tenant, role=role)
    generator = services.register_generator(actor=user, name="bench-llm", version="1")
    template = services.create_prompt_template(actor=user, tenant=tenant, name="bench", body="Write a {intent} ticket.")
    anchor = services.create_dataset(actor=user, tenant=tenant, slug="bench-anchor", name="Anchor", kind="real_anchor")
    services.create_version(actor=user, dataset=anchor, manifest={
        "intended_uses": ["evaluation"], "never_train_on": True, "eval_exclusion": True, "tenant_scope": [tenant]})
    dataset = services.create_dataset(actor=user, tenant=tenant, slug="bench-synthetic", name="Synthetic",
                                      kind="synthetic")
    version = services.create_version(actor=user, dataset=dataset, manifest={
        "purpose_gap": "Rare intents.", "purpose_why_not_real": "Rare by nature.",
        "purpose_success_criterion": "Per-class recall on real held-aside tickets.", "use_cell": "training",
        "intended_uses": ["training"], "prohibited_uses": ["evaluation"], "max_synthetic_ratio": 0.3,
        "expires_at": timezone.localdate() + datetime.timedelta(days=90), "real_anchor": anchor,
        "tenant_scope": [tenant],
    })
    insert_examples(version, generator, template, n)
    # The aggregates ingestion stores in the transaction that writes the rows.
    VersionLineage.objects.create(
        version=version, total=n, synthetic=n, synthetic_complete=n, by_origin={"synthetic": n},
        by_generator={str(generator.pk): n}, by_template={str(template.pk): n}, by_intended_use={"training": n},
        by_label={"gdpr_erasure": n}, by_flag={},
    )
    return user, version


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--examples", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200)
    add_common_arguments(parser)
    args = parser.parse_args()
    sizes = [500, 2000] if args.smoke else [args.examples]
    if args.smoke:
        args.requests = 10
    counts = {}
    for n in sizes:
        args.examples = n
        teardown = scratch_database()
        try:
            counts[n] = run(args)
        finally:
            teardown()
    if args.smoke:
        require_constant("scorecard request queries", counts)


def run(args):
    import time

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    start = time.perf_counter()
    user, version = build(args.examples)
    build_seconds = time.perf_counter() - start
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    client = Client()
    client.force_login(user)
    url = f"/api/scorecards/{version.pk}/?use=training"
    first = client.get(url)  # records the first snapshot; later requests only read
    assert first.status_code == 200, first.content
    with CaptureQueriesContext(connection) as captured:
        body = client.get(url).json()
    queries = len(captured)

    def select_one():
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()

    def recount():
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM registry_example WHERE version_id = %s", [version.pk])
            assert cursor.fetchone()[0] == args.examples

    rounds = alternate({
        "scorecard": lambda: p95_seconds(lambda: client.get(url), args.requests),
        "select 1": lambda: p95_seconds(select_one, args.requests),
        "raw count": lambda: p95_seconds(recount, max(5, args.requests // 20)),
    }, repeats(args))
    print(f"{connection.vendor}, {args.examples:,} examples (built in {build_seconds:.1f} s); verdict {body['code']}; "
          f"{queries} queries per request")
    print(f"scorecard API p95  {spread(rounds['scorecard'], 1000, 'ms', '.1f')}")
    print(f"SELECT 1 p95       {spread(rounds['select 1'], 1000, 'ms', '.3f')}")
    print(f"raw COUNT(*) p95   {spread(rounds['raw count'], 1000, 'ms', '.1f')}")
    print(f"scorecard / SELECT 1: {ratios(rounds['scorecard'], rounds['select 1'])}; "
          f"raw COUNT(*) / scorecard: {ratios(rounds['raw count'], rounds['scorecard'])}")
    return queries

if __name__ == "__main__":
    main()
