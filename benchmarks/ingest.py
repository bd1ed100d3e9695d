"""Lineage ingestion throughput, memory and version-diff time.

    python benchmarks/ingest.py 20000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/careful_bench_lineage nice python benchmarks/ingest.py 1000000

Generates a JSON Lines file of N synthetic rows with full lineage and registers
it through the product's own path (services.register_examples_file +
run_ingestion: parse, validate, normalize, hash, COPY / staged INSERT, stored
aggregates, audit job). In the same run, on the same database, it times
baselines fed from the same file (read, json.loads, sha256 of the text):

  PostgreSQL  (a) raw psycopg COPY into a scratch table with registry_example's
              columns, indexes, CHECK/UNIQUE constraints and foreign keys;
  SQLite      (a) raw executemany into such a table, in one transaction;
  both        (b) Django bulk_create of Example objects in batches of 5,000.

Peak RSS (resource.getrusage) is read after an N/10 ingestion and after the
N ingestion: flat means streaming. Finally it times the diff of two N-row
versions (90% shared content) after VACUUM ANALYZE (PostgreSQL) / ANALYZE.
"""
import argparse
import hashlib
import json
import re
import resource
import tempfile
import time
from pathlib import Path

from _setup import scratch_database

LABELS = ["gdpr_erasure", "chargeback_dispute", "regulator_complaint", "data_access_request", "account_takeover",
          "sanctions_kyc"]
WORDS = ("account delete data refund bank charge erase request regulator complaint frozen transfer password "
         "hacked verify passport ombudsman urgent please now again week order card dispute").split()
BATCH = 5000


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_rows(path, n, *, shift=0):
    """N rows; row i's text is unique to i + shift (so two files can share content)."""
    with open(path, "w") as out:
        for i in range(shift, n + shift):
            words = " ".join(WORDS[(i * (j + 3) + j) % len(WORDS)] for j in range(12))
            out.write(json.dumps({
                "text": f"Ticket {i}: {words}", "label": LABELS[i % len(LABELS)],
                "origin": "synthetic", "generator_name": "bench-llm", "generator_version": "1",
                "template_name": "bench-template", "template_version": 1, "seed_external_id": f"seed-{i % 500}",
                "sampling_params": {"temperature": 0.9, "top_p": 0.95}, "intended_use": "training",
            }) + "\n")


def parsed_rows(path):
    """The minimal loader both baselines share: parse and hash, no validation."""
    with open(path, "rb") as stream:
        for line in stream:
            row = json.loads(line)
            yield row, hashlib.sha256(row["text"].encode()).hexdigest()


def world():
    from registry import services
    from tests.factories import make_dataset, make_tenant, make_user, make_version
    from registry.choices import Role

    tenant = make_tenant("bench")
    user = make_user("bench", tenant=tenant, roles=[Role.CONTRIBUTOR])
    generator = services.register_generator(actor=user, name="bench-llm", version="1")
    template = services.create_prompt_template(actor=user, tenant=tenant, name="bench-template", body="Write {x}.")
    dataset = make_dataset(user, tenant, "bench-lineage")
    return user, dataset, generator, template, lambda: make_version(user, dataset)


def product(user, version, path):
    from registry import services

    job = services.register_examples_file(actor=user, version=version, path=path, source="benchmark")
    start = time.perf_counter()
    job = services.run_ingestion(job_id=job.pk)
    elapsed = time.perf_counter() - start
    assert job.status == "succeeded", job.errors[:5]
    return elapsed


def scratch_table(connection):
    """bench_raw_example: registry_example's shape (no product triggers)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("CREATE TABLE bench_raw_example (LIKE registry_example INCLUDING ALL)")
            for column, target in (("version_id", "registry_datasetversion"), ("generator_id", "registry_generator"),
                                   ("prompt_template_id", "registry_prompttemplate"),
                                   ("seed_example_id", "registry_example")):
                cursor.execute(f"ALTER TABLE bench_raw_example ADD FOREIGN KEY ({column}) REFERENCES {target} (id) "
                               "DEFERRABLE INITIALLY DEFERRED")
        else:
            cursor.execute("SELECT sql FROM sqlite_master WHERE tbl_name = 'registry_example' AND sql IS NOT NULL "
                           "AND type IN ('table', 'index')")
            for (sql,) in cursor.fetchall():
                if sql.startswith("CREATE TABLE"):
                    sql = sql.replace('"registry_example"', '"bench_raw_example"', 1)
                sql = re.sub(r'INDEX "?(\w+)"? ON "?registry_example"?', r'INDEX "bench_\1" ON "bench_raw_example"', sql)
                cursor.execute(sql)


COLUMNS = ("version_id", "ordinal", "text", "data", "content_hash", "dup_rank", "label", "origin", "generator_id",
           "prompt_template_id", "prompt_hash", "seed_example_id", "seed_external_id", "sampling_params",
           "intended_use", "eval_exclusion", "never_train_on")


def raw_values(path, version_id, generator_id, template_id):
    for ordinal, (row, digest) in enumerate(parsed_rows(path), 1):
        yield (version_id, ordinal, row["text"], None, digest, 0, row["label"], row["origin"], generator_id,
               template_id, "a" * 64, None, row["seed_external_id"], json.dumps(row["sampling_params"]),
               row["intended_use"], False, False)


def raw_load(connection, path, version_id, generator_id, template_id):
    from django.db import transaction

    scratch_table(connection)
    start = time.perf_counter()
    with transaction.atomic():
        with connection.cursor() as cursor:
            values = raw_values(path, version_id, generator_id, template_id)
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY bench_raw_example ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                    for row in values:
                        copy.write_row(row)
            else:
                raw = connection.connection.cursor()
                raw.executemany(f"INSERT INTO bench_raw_example ({', '.join(COLUMNS)}) "
                                f"VALUES ({', '.join('?' * len(COLUMNS))})", values)
    return time.perf_counter() - start


def bulk_create(path, version, generator, template):
    from django.db import transaction

    from registry.models import Example

    start = time.perf_counter()
    with transaction.atomic():
        batch = []
        for ordinal, (row, digest) in enumerate(parsed_rows(path), 1):
            batch.append(Example(
                version=version, ordinal=ordinal, text=row["text"], content_hash=digest, label=row["label"],
                origin=row["origin"], generator=generator, prompt_template=template, prompt_hash=template.body_sha256,
                seed_external_id=row["seed_external_id"], sampling_params=row["sampling_params"],
                intended_use=row["intended_use"],
            ))
            if len(batch) == BATCH:
                Example.objects.bulk_create(batch)
                batch = []
        Example.objects.bulk_create(batch)
    return time.perf_counter() - start


def time_diff(connection, old, new):
    from registry.diff import version_diff

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE registry_example" if connection.vendor == "postgresql" else "ANALYZE")
    start = time.perf_counter()
    diff = version_diff(old, new)
    return time.perf_counter() - start, diff["examples"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("n", type=int, nargs="?", default=20_000)
    parser.add_argument("--format", choices=["jsonl"], default="jsonl", help="Only JSON Lines is generated.")
    args = parser.parse_args()
    n = args.n
    teardown = scratch_database()
    try:
        from django.db import connection

        from registry.models import VersionLineage

        user, dataset, generator, template, new_version = world()
        workdir = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
        small, full, shifted = workdir / "small.jsonl", workdir / "full.jsonl", workdir / "shifted.jsonl"
        write_rows(small, max(n // 10, 1), shift=10 * n)
        write_rows(full, n)
        write_rows(shifted, n, shift=n // 10)  # shares 90% of full's content
        print(f"{connection.vendor}, N = {n:,}; file {full.stat().st_size / 1e6:.0f} MB")

        product(user, new_version(), small)
        rss_small = peak_rss_mb()
        version_a = new_version()
        t_product = product(user, version_a, full)
        rss_full = peak_rss_mb()
        t_raw = raw_load(connection, full, new_version().pk, generator.pk, template.pk)
        version_b = new_version()
        t_bulk = bulk_create(shifted, version_b, generator, template)
        # bulk_create writes no aggregates; the diff reads them, so store B's like an ingestion would.
        VersionLineage.objects.create(version=version_b, total=n, synthetic=n, synthetic_complete=n)
        t_diff, counts = time_diff(connection, version_a, version_b)

        rate = lambda seconds: n / seconds  # noqa: E731
        baseline = "raw COPY" if connection.vendor == "postgresql" else "raw executemany"
        print(f"product ingestion   {rate(t_product):>10,.0f} rows/s  ({t_product:.1f} s)")
        print(f"{baseline:<19} {rate(t_raw):>10,.0f} rows/s  ({t_raw:.1f} s)")
        print(f"bulk_create         {rate(t_bulk):>10,.0f} rows/s  ({t_bulk:.1f} s)")
        print(f"ratio product / {baseline}: {t_raw / t_product:.2f}x   product / bulk_create: {t_bulk / t_product:.2f}x")
        print(f"peak RSS after N/10 = {n // 10:,} rows: {rss_small:.0f} MB; after N = {n:,}: {rss_full:.0f} MB")
        print(f"diff of two {n:,}-row versions: {t_diff:.2f} s ({counts['unchanged']:,} unchanged, "
              f"+{counts['added']:,} / -{counts['removed']:,})")
    finally:
        teardown()


if __name__ == "__main__":
    main()
