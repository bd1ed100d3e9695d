"""Catalog list latency for a user of one tenant.

    python benchmarks/catalog.py [--datasets 10000] [--tenants 100] [--shares 1000] [--requests 200]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/careful python benchmarks/catalog.py
    python benchmarks/catalog.py --smoke

Builds 10,000 datasets (one version + manifest each) across 100 tenants and
1,000 per-object shares, then times GET /api/datasets/ (first page, 50 rows,
the whole stack: auth, scope query, annotations, serialization) for a user of
one tenant. Baseline in the same process: the bare SQL of "this tenant's
datasets, first 50" with no scope logic or serialization. Rounds of
``--requests`` requests alternate API and SQL; figures are the median p95 over
``--repeats`` rounds, with its spread.
"""
import argparse
import random

from _setup import add_common_arguments, alternate, p95_seconds, ratios, repeats, scratch_database, spread, timed


def build(n_datasets, n_tenants, n_shares):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission
    from registry.models import (
        Dataset, DatasetUserObjectPermission, DatasetVersion, Manifest, Membership, Tenant,
    )

    rng = random.Random(7)
    User = get_user_model()
    tenants = Tenant.objects.bulk_create([Tenant(slug=f"t{i}", name=f"Tenant {i}") for i in range(n_tenants)])
    users = User.objects.bulk_create([User(username=f"u{i}") for i in range(n_tenants * 3)])
    Membership.objects.bulk_create(
        [Membership(user=u, tenant=tenants[i % n_tenants], role="viewer") for i, u in enumerate(users)]
    )
    datasets = Dataset.objects.bulk_create(
        [
            Dataset(slug=f"d{i}", name=f"Dataset {i}", tenant=tenants[i % n_tenants], owner=users[i % len(users)],
                    kind=rng.choice(["synthetic", "real_anchor"]))
            for i in range(n_datasets)
        ],
        batch_size=2000,
    )
    versions = DatasetVersion.objects.bulk_create(
        [DatasetVersion(dataset=d, number=1, created_by=d.owner) for d in datasets], batch_size=2000
    )
    Manifest.objects.bulk_create(
        [Manifest(version=v, owner=v.created_by, intended_uses=["training"], content_hash="0" * 64) for v in versions],
        batch_size=2000,
    )
    view = Permission.objects.get(codename="view_dataset")
    share_pairs = {(rng.randrange(len(users)), rng.randrange(n_datasets)) for _ in range(n_shares)}
    DatasetUserObjectPermission.objects.bulk_create(
        [DatasetUserObjectPermission(user=users[u], content_object=datasets[d], permission=view)
         for u, d in share_pairs]
    )
    return users[0], tenants[0]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--datasets", type=int, default=10_000)
    parser.add_argument("--tenants", type=int, default=100)
    parser.add_argument("--shares", type=int, default=1_000)
    parser.add_argument("--requests", type=int, default=200)
    add_common_arguments(parser)
    args = parser.parse_args()
    if args.smoke:
        args.datasets, args.tenants, args.shares, args.requests = 200, 5, 20, 10
    teardown = scratch_database()
    try:
        from django.db import connection
        from rest_framework.test import APIClient

        user, tenant = build(args.datasets, args.tenants, args.shares)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("ANALYZE")
        client = APIClient()
        client.force_authenticate(user)
        response = client.get("/api/datasets/")
        assert response.status_code == 200, response.content
        visible = response.json()["count"]

        def api_request():
            assert client.get("/api/datasets/").status_code == 200

        def raw_sql():
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT id, slug, name FROM registry_dataset WHERE tenant_id = %s ORDER BY slug LIMIT 50",
                    [tenant.pk],
                )
                cursor.fetchall()

        timed(api_request, 10)  # warm-up
        samples = alternate({"api": lambda: p95_seconds(api_request, args.requests),
                             "raw": lambda: p95_seconds(raw_sql, args.requests)}, repeats(args))
        api_p95 = sorted(samples["api"])[len(samples["api"]) // 2] * 1000
        print(f"database: {connection.vendor}; {args.datasets} datasets, {args.tenants} tenants, "
              f"{args.shares} shares; user sees {visible} datasets; {args.requests} requests per round")
        print(f"catalog API  p95 {spread(samples['api'], 1000, 'ms', '.1f')}")
        print(f"raw SQL      p95 {spread(samples['raw'], 1000, 'ms', '.2f')}")
        print(f"ratio API/raw p95: {ratios(samples['api'], samples['raw'])}   target: API p95 < 100 ms -> "
              f"{'met' if api_p95 < 100 else 'NOT met'}")
    finally:
        teardown()


if __name__ == "__main__":
    main()
