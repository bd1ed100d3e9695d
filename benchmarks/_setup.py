"""Shared set-up for benchmarks: Django on a throw-away database.

Each benchmark runs on its own scratch database (created and dropped here), on
SQLite by default or on PostgreSQL when DATABASE_URL is set.
"""
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


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
