"""Lineage ingestion throughput, memory and version-diff time.

    python benchmarks/ingest.py 20000 [--repeats 3]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/careful_bench_lineage nice python benchmarks/ingest.py 1000000
    python benchmarks/ingest.py --smoke

Generates a JSON Lines file of N synthetic rows with full lineage and times the
product's user path: ``manage.py ingest_examples`` (the file's SHA-256, the job,
parse, validate, normalize, hash, COPY / staged INSERT, stored aggregates,
audit), each round into a fresh draft version. Baselines, alternating with it:

  PostgreSQL  raw psycopg COPY of the same rows, pre-serialized to COPY text
              before the clock starts, into a scratch table with only what
              the product's table needs: its columns, primary key, CHECK and
              UNIQUE constraints, foreign keys, remaining indexes and the
              frozen-version trigger;
  SQLite      raw executemany of the same pre-built tuples into such a table;
  both        Django bulk_create of Example objects (parse + hash included).

Peak RSS (resource.getrusage) is read after an N/10 ingestion and after the
N ingestions: flat means streaming. ``--immediate-fks`` makes the examples'
foreign keys NOT DEFERRABLE first (the measurement behind keeping them
deferred). Finally it times the diff of two N-row versions (90% shared
content) after VACUUM ANALYZE (PostgreSQL) / ANALYZE, and EXPLAINs the
leakage scan's exact join (served by UNIQUE (version, content_hash, dup_rank)).
"""
import argparse
import hashlib
import json
import re
import resource
import tempfile
import time
from pathlib import Path

from _setup import add_common_arguments, alternate, ratios, repeats, scratch_database, spread

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
    """The CLI, as a user runs it; returns its seconds."""
    import io

    from django.core.management import call_command

    start = time.perf_counter()
    call_command("ingest_examples", version.dataset.slug, str(version.number), str(path), actor=user.username,
                 stdout=io.StringIO(), stderr=io.StringIO())
    elapsed = time.perf_counter() - start
    assert version.examples.exists()
    return elapsed


def scratch_table(connection):
    """bench_raw_example: registry_example as the product has it now (columns,
    constraints, indexes; on PostgreSQL its foreign keys and frozen trigger)."""
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_raw_example")
        if connection.vendor == "postgresql":
            cursor.execute("CREATE TABLE bench_raw_example (LIKE registry_example INCLUDING ALL)")
            cursor.execute(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'registry_example'::regclass "
                "AND contype = 'f'")
            for (definition,) in cursor.fetchall():
                cursor.execute(f"ALTER TABLE bench_raw_example ADD {definition.replace('registry_example(', 'bench_raw_example(')}")
            cursor.execute("CREATE TRIGGER bench_frozen_insert AFTER INSERT ON bench_raw_example REFERENCING NEW TABLE "
                           "AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION registry_example_frozen_rows()")
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


def serialized_rows(connection, path, version_id, generator_id, template_id, out):
    """The rows as the baseline loads them, built before its clock starts: COPY
    text on PostgreSQL (what psycopg sends), in the file ``out`` so it does not
    count in this process's memory; tuples in memory on SQLite."""
    values = raw_values(path, version_id, generator_id, template_id)
    if connection.vendor != "postgresql":
        return list(values)
    with open(out, "wb") as buffer, connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMP TABLE bench_serialize AS SELECT {', '.join(COLUMNS)} FROM bench_raw_example WITH NO DATA")
        # psycopg formats rows exactly as a COPY FROM STDIN would send them; capture them by a COPY TO.
        with cursor.cursor.copy(f"COPY bench_serialize ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for row in values:
                copy.write_row(row)
        with cursor.cursor.copy(f"COPY bench_serialize ({', '.join(COLUMNS)}) TO STDOUT") as copy:
            for chunk in copy:
                buffer.write(chunk)
        cursor.execute("DROP TABLE bench_serialize")
    return out


def raw_load(connection, serialized):
    """The floor: one COPY (or executemany) of pre-serialized rows, in one transaction."""
    from django.db import transaction

    scratch_table(connection)
    start = time.perf_counter()
    with transaction.atomic():
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY bench_raw_example ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                    with open(serialized, "rb") as stream:
                        while chunk := stream.read(1 << 20):
                            copy.write(chunk)
            else:
                raw = connection.connection.cursor()
                raw.executemany(f"INSERT INTO bench_raw_example ({', '.join(COLUMNS)}) "
                                f"VALUES ({', '.join('?' * len(COLUMNS))})", serialized)
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


def explain_exact_join(connection, eval_version, candidates):
    """The leakage scan's exact join (training.leakage): which index serves it."""
    from training.leakage import EXAMPLE, JOINS
    from training.models import LeakKind

    ids = ", ".join(str(v.pk) for v in candidates)
    prefix = "EXPLAIN " if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN "
    with connection.cursor() as cursor:
        cursor.execute(f"{prefix}SELECT e.id, t.id FROM {EXAMPLE} e JOIN {EXAMPLE} t ON {JOINS[LeakKind.EXACT]} "
                       f"WHERE e.version_id = %s AND t.version_id IN ({ids})", [eval_version.pk])
        return "\n".join("    " + " | ".join(str(c) for c in row if c is not None) for row in cursor.fetchall())


def immediate_foreign_keys(connection):
    with connection.cursor() as cursor:
        cursor.execute("SELECT conname FROM pg_constraint WHERE conrelid = 'registry_example'::regclass AND contype = 'f'")
        for (name,) in cursor.fetchall():
            cursor.execute(f"ALTER TABLE registry_example ALTER CONSTRAINT {name} NOT DEFERRABLE")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("n", type=int, nargs="?", default=20_000)
    parser.add_argument("--format", choices=["jsonl"], default="jsonl", help="Only JSON Lines is generated.")
    parser.add_argument("--immediate-fks", action="store_true", help="PostgreSQL: make the FKs NOT DEFERRABLE first")
    add_common_arguments(parser)
    args = parser.parse_args()
    n = 2000 if args.smoke else args.n
    teardown = scratch_database()
    try:
        from django.db import connection

        from registry.models import VersionLineage

        if args.immediate_fks:
            immediate_foreign_keys(connection)
        user, dataset, generator, template, new_version = world()
        workdir = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
        small, full, shifted = workdir / "small.jsonl", workdir / "full.jsonl", workdir / "shifted.jsonl"
        write_rows(small, max(n // 10, 1), shift=10 * n)
        write_rows(full, n)
        write_rows(shifted, n, shift=n // 10)  # shares 90% of full's content
        print(f"{connection.vendor}, N = {n:,}; file {full.stat().st_size / 1e6:.0f} MB"
              + ("; foreign keys NOT DEFERRABLE" if args.immediate_fks else ""))

        product(user, new_version(), small)
        rss_small = peak_rss_mb()
        scratch_table(connection)
        serialized = serialized_rows(connection, full, new_version().pk, generator.pk, template.pk,
                                     workdir / "serialized.copy")
        versions = []

        def ingest():
            versions.append(new_version())
            return product(user, versions[-1], full)

        samples = alternate({"raw": lambda: raw_load(connection, serialized), "product": ingest,
                             "bulk_create": lambda: bulk_create(full, new_version(), generator, template)},
                            repeats(args))
        rss_full = peak_rss_mb()
        version_b = new_version()
        bulk_create(shifted, version_b, generator, template)
        # bulk_create writes no aggregates; the diff reads them, so store B's like an ingestion would.
        VersionLineage.objects.create(version=version_b, total=n, synthetic=n, synthetic_complete=n)
        t_diff, counts = time_diff(connection, versions[0], version_b)

        baseline = "raw COPY" if connection.vendor == "postgresql" else "raw executemany"
        rate = lambda seconds: f"{n / sorted(seconds)[len(seconds) // 2]:>10,.0f} rows/s"  # noqa: E731
        print(f"product (ingest_examples CLI)  {rate(samples['product'])}  {spread(samples['product'])}")
        print(f"{baseline + ' (pre-serialized)':<30} {rate(samples['raw'])}  {spread(samples['raw'])}")
        print(f"{'bulk_create':<30} {rate(samples['bulk_create'])}  {spread(samples['bulk_create'])}")
        print(f"throughput product / {baseline}: {ratios(samples['raw'], samples['product'])}   "
              f"product / bulk_create: {ratios(samples['bulk_create'], samples['product'])}")
        print(f"peak RSS after N/10 = {max(n // 10, 1):,} rows: {rss_small:.0f} MB; after N = {n:,} "
              f"x {repeats(args)}: {rss_full:.0f} MB")
        print(f"diff of two {n:,}-row versions: {t_diff:.2f} s ({counts['unchanged']:,} unchanged, "
              f"+{counts['added']:,} / -{counts['removed']:,})")
        print("leakage exact join plan:\n" + explain_exact_join(connection, version_b, versions[:2]))
    finally:
        teardown()

if __name__ == "__main__":
    main()
