"""Shared set-up for benchmarks: Django on a throw-away database, A/B timing,
the smoke mode, and the scratch catalog data benchmarks write directly.

Each benchmark runs on its own scratch database (created and dropped here), on
SQLite by default or on PostgreSQL when DATABASE_URL is set (the scratch
database is ``test_<name>``, or TEST_DATABASE_NAME / TEST_SQLITE_NAME).

Every benchmark takes ``--smoke``: tiny sizes, one repeat, so CI proves it still
runs (tests/test_benchmarks_smoke.py); a benchmark that claims a query count
independent of N measures two sizes there and fails if the count grows.
"""
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Tasks a timed path enqueues stay in this process's memory: nothing is left in var/celery.
os.environ.setdefault("CELERY_BROKER_URL", "memory://")

REPEATS = 3


def scratch_database():
    """django.setup() and create a scratch database; returns a teardown function."""
    import django

    django.setup()
    from django.db import connection

    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)

    def teardown():
        connection.creation.destroy_test_db(old_name, verbosity=0)

    return teardown


def add_common_arguments(parser):
    parser.add_argument("--smoke", action="store_true",
                        help="tiny sizes and one repeat: proves the benchmark runs (CI), measures nothing")
    parser.add_argument("--repeats", type=int, default=REPEATS, help=f"A/B rounds (default {REPEATS})")


def repeats(args):
    return 1 if args.smoke else args.repeats


def alternate(runs, rounds, reset=None):
    """Run each callable of ``runs`` ({name: fn}) once per round, in alternating
    order (A B, B A, A B ...), so drift on a noisy machine hits both alike.
    ``fn()`` returns its own duration in seconds (so it can exclude set-up), or
    None to be timed whole; ``reset()`` runs untimed after every call.
    Returns {name: [seconds per round]}."""
    names = list(runs)
    samples = {name: [] for name in names}
    for round_ in range(rounds):
        for name in names if round_ % 2 == 0 else reversed(names):
            start = time.perf_counter()
            measured = runs[name]()
            samples[name].append(measured if measured is not None else time.perf_counter() - start)
            if reset is not None:
                reset()
    return samples


def spread(samples, scale=1.0, unit="s", fmt=".2f"):
    """'median (min–max, n=3)' of a list of seconds, scaled (1000 for ms)."""
    values = [v * scale for v in samples]
    return (f"{statistics.median(values):{fmt}} {unit} (min {min(values):{fmt}}, max {max(values):{fmt}}, "
            f"n={len(values)})")


def ratios(numerators, denominators):
    """Per-round ratios of paired samples: 'median (min–max)'."""
    values = [a / b for a, b in zip(numerators, denominators)]
    return f"{statistics.median(values):.2f}x (min {min(values):.2f}, max {max(values):.2f})"


def require_constant(what, counts):
    """Smoke check: ``counts`` ({N: queries}) must not grow with N."""
    sizes = sorted(counts)
    print(f"{what}: " + ", ".join(f"N={n:,}: {counts[n]} queries" for n in sizes))
    if counts[sizes[-1]] > counts[sizes[0]]:
        raise SystemExit(f"FAIL: {what} grows with N ({counts})")


def timed(fn, repeat):
    """Run fn ``repeat`` times; return the sorted durations in milliseconds."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return sorted(samples)


def percentile(samples, pct):
    return samples[min(len(samples) - 1, int(round(pct / 100 * (len(samples) - 1))))]


def summary(samples):
    return {"p50": statistics.median(samples), "p95": percentile(samples, 95), "n": len(samples)}


def p95_seconds(fn, requests):
    """One latency round for ``alternate``: the p95 of ``requests`` calls, in seconds."""
    return percentile(timed(fn, requests), 95) / 1000


# Scratch catalog data, written directly (not through the approval workflow):
# the one place to adapt when approval's rules change. What a benchmark times is
# still the product's own code path.

def catalog_evidence_policy(use="training"):
    """The ``use`` cells' policies require only the evidence the catalog itself
    holds (purpose, ratio cap, hash, uses, scope, state, expiry): scratch versions
    have no gate runs, scans or monitors. Edited as the registry's policy admin would."""
    from django.contrib.auth import get_user_model

    from registry.choices import RegistryRole
    from registry.models import RegistryMembership
    from scorecard import services
    from scorecard.models import ScorecardPolicy

    actor, _ = get_user_model().objects.get_or_create(username="bench-policy-admin")
    RegistryMembership.objects.get_or_create(user=actor, role=RegistryRole.POLICY_ADMIN)

    # Scratch rows are bulk-inserted without the lineage aggregates an ingestion
    # stores, so R's lineage checks would be missing evidence (which blocks).
    checks = {
        "C.purpose_worksheet": {}, "A.ratio_cap_set": {}, "R.manifest_hashed": {}, "U.uses_declared": {},
        "U.tenant_scope_set": {}, "U.lifecycle_state": {}, "L.expiry_set": {"max_days": 365},
    }
    for policy in ScorecardPolicy.objects.filter(use_cell=use):
        services.update_policy(actor=actor, policy=policy, checks=checks)


def approve_directly(versions, tenant):
    """Approve ``versions`` as the workflow would leave them: a legal and a
    governance sign-off bound to each manifest hash, state approved."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from governance.models import Decision, SignOff
    from registry.choices import Role, VersionState
    from registry.models import DatasetVersion, Membership

    signers = []
    for role in (Role.LEGAL_REVIEWER, Role.GOVERNANCE_REVIEWER):
        signer, _ = get_user_model().objects.get_or_create(username=f"bench-{role}")
        Membership.objects.get_or_create(user=signer, tenant=tenant, role=role)
        signers.append((signer, role))
    pks = [v.pk for v in versions]
    fresh = DatasetVersion.objects.select_related("manifest").filter(pk__in=pks)
    SignOff.objects.bulk_create([
        SignOff(version=v, reviewer=signer, role=role, decision=Decision.APPROVE, manifest_hash=v.manifest.content_hash)
        for v in fresh for signer, role in signers
    ])
    fresh.update(state=VersionState.APPROVED, state_changed_at=timezone.now())
    return DatasetVersion.objects.select_related("dataset", "manifest").in_bulk(pks)
