"""Drift-run speed: the registry's monitor run against raw Evidently.

    nice .venv/bin/python benchmarks/drift.py [--rows 100000] [--columns 20] [--large 1000000] [--sample 100000] [--repeats 3]
    .venv/bin/python benchmarks/drift.py --smoke

1. Raw Evidently: ``Report([DataDriftPreset()]).run(current, reference)`` on
   in-memory frames (Evidently already imported).
2. The registry's run of a production drift monitor over the same data: read
   the stored baseline and batch Parquet, run Evidently with the monitor's
   data definition, render and store the HTML and JSON reports, write every
   result in one transaction.
3. The documented sampling option: ``--large`` rows per side stored, the
   monitor samples each side to ``--sample`` rows (seeded) before Evidently.

Each measurement runs in a forked child, so its peak memory (max RSS) is its
own; raw and registry runs alternate, ``--repeats`` rounds; figures are the
median seconds with their spread and the per-round registry / raw ratio.
"""
import argparse
import datetime
import io
import multiprocessing
import os
import resource
import time

import numpy as np
from _setup import add_common_arguments, alternate, ratios, repeats, scratch_database, spread
import pandas as pd

NUMERIC_SHARE = 0.7


def frames(rows, columns, seed):
    rng = np.random.default_rng(seed)
    numeric = int(columns * NUMERIC_SHARE)

    def frame(shift):
        data = {f"n{i}": rng.normal(shift if i < 2 else 0.0, 1.0, rows) for i in range(numeric)}
        data.update({f"c{i}": rng.choice(list("abcdefgh"), rows) for i in range(columns - numeric)})
        return pd.DataFrame(data)

    return frame(0.0), frame(0.2)


def in_child(fn):
    """(seconds, peak RSS MB) of ``fn()`` run in a forked child."""
    from django.db import connections

    connections.close_all()
    parent, child = multiprocessing.Pipe()

    def target():
        start = time.perf_counter()
        fn()
        child.send((time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))

    process = multiprocessing.get_context("fork").Process(target=target)
    process.start()
    result = parent.recv()
    process.join()
    return result


def raw_evidently(reference, current):
    from evidently import Report
    from evidently.presets import DataDriftPreset

    Report([DataDriftPreset()]).run(current, reference)


def setup_monitor(reference, current, *, sample_rows=None, name="bench"):
    from django.contrib.auth import get_user_model

    from monitoring import services
    from registry import services as registry_services
    from registry.choices import Role
    from registry.models import Membership, Tenant

    user = get_user_model().objects.filter(username="bench").first()
    if user is None:
        user = get_user_model().objects.create_user("bench", is_superuser=True)
        tenant = Tenant.objects.create(slug="bench", name="Bench")
        Membership.objects.create(user=user, tenant=tenant, role=Role.TENANT_ADMIN)
        dataset = registry_services.create_dataset(actor=user, tenant=tenant, slug="bench", name="Bench",
                                                   kind="synthetic")
        registry_services.create_version(actor=user, dataset=dataset)
    tenant = Tenant.objects.get(slug="bench")
    version = tenant.datasets.get().versions.get()
    buffer = io.BytesIO()
    reference.to_parquet(buffer, index=False)
    baseline = services.create_baseline(actor=user, tenant=tenant, name=name)
    baseline_version = services.add_baseline_version(actor=user, baseline=baseline, upload=([buffer.getvalue()], "r.parquet"))
    monitor = services.create_monitor(actor=user, version=version, name=name, baseline_version=baseline_version,
                                      source="production", sample_rows=sample_rows, sample_seed=1)
    end = datetime.datetime(2026, 11, 24, tzinfo=datetime.timezone.utc)
    services.post_production_batch(actor=user, monitor=monitor, frame=current, started_at=end, ended_at=end)
    return monitor, end


def registry_run(monitor, at):
    from monitoring import services
    from monitoring.models import MonitorRun

    run = MonitorRun.objects.create(monitor=monitor, scheduled_for=at)
    run = services.execute_run(run_id=run.pk)
    assert run.status == "done", run.error


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--columns", type=int, default=20)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=100_000)
    add_common_arguments(parser)
    args = parser.parse_args()
    if args.smoke:
        args.rows, args.columns, args.large, args.sample = 2000, 4, 4000, 1000
    teardown = scratch_database()
    try:
        import evidently  # noqa: F401  (imported once, before any timing: both sides start warm)

        reference, current = frames(args.rows, args.columns, seed=1)
        monitor, end = setup_monitor(reference, current)
        peaks = {"raw": [], "registry": []}

        def measured(name, fn):
            seconds, peak = in_child(fn)
            peaks[name].append(peak)
            return seconds

        runs = iter(range(10_000))  # each registry run is for a new scheduled time
        samples = alternate({
            "raw": lambda: measured("raw", lambda: raw_evidently(reference, current)),
            "registry": lambda: measured("registry", lambda i=next(runs): registry_run(
                monitor, end + datetime.timedelta(minutes=i))),
        }, repeats(args))
        print(f"{args.rows:,} rows x {args.columns} columns per side")
        print(f"raw Evidently        {spread(samples['raw'])}  peak {max(peaks['raw']):6.0f} MB")
        print(f"registry run         {spread(samples['registry'])}  peak {max(peaks['registry']):6.0f} MB")
        print(f"ratio registry / raw {ratios(samples['registry'], samples['raw'])} (target <= 1.3x)")
        del reference, current
        if args.large:
            big_reference, big_current = frames(args.large, args.columns, seed=2)
            big, big_end = setup_monitor(big_reference, big_current, sample_rows=args.sample, name="bench-large")
            del big_reference, big_current
            big_runs, big_peaks = [], []
            for i in range(repeats(args)):
                seconds, peak = in_child(lambda i=i: registry_run(big, big_end + datetime.timedelta(minutes=i)))
                big_runs.append(seconds)
                big_peaks.append(peak)
            print(f"sampled run          {spread(big_runs)}  peak {max(big_peaks):6.0f} MB  "
                  f"({args.large:,} rows per side sampled to {args.sample:,}; target <= 15 s)")
    finally:
        teardown()


if __name__ == "__main__":
    os.environ.setdefault("CAREFUL_VAR_DIR", "/tmp/careful-bench-drift")
    main()
