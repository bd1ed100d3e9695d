"""Shared builders for the monitoring tests: seeded frames, baselines and
monitors made through the services, as users make them."""
import io

import numpy as np
import pandas as pd

from monitoring import services

COLUMNS = [
    {"name": "amount", "type": "numeric"},
    {"name": "length", "type": "numeric"},
    {"name": "channel", "type": "categorical"},
    {"name": "label", "type": "categorical"},
]
LABELS = ["billing", "shipping", "account", "rare_intent"]
LABEL_P = [0.4, 0.3, 0.25, 0.05]


def tickets(rows, *, seed, amount_shift=0.0, rare_length_shift=0.0):
    """Seeded support tickets; shifts are planted in one column, or in the
    rare slice only."""
    rng = np.random.default_rng(seed)
    label = rng.choice(LABELS, size=rows, p=LABEL_P)
    length = rng.normal(200, 40, rows)
    length[label == "rare_intent"] += rare_length_shift
    return pd.DataFrame({
        "amount": rng.normal(100 + amount_shift, 15, rows),
        "length": length,
        "channel": rng.choice(["chat", "email", "phone"], size=rows, p=[0.5, 0.3, 0.2]),
        "label": label,
    })


def parquet_upload(frame, name="sample.parquet"):
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return [buffer.getvalue()], name


def make_baseline(actor, tenant, frame, *, name="real-tickets", columns=COLUMNS, target_column="label"):
    baseline = services.create_baseline(actor=actor, tenant=tenant, name=name)
    return services.add_baseline_version(
        actor=actor, baseline=baseline, columns=columns, target_column=target_column, upload=parquet_upload(frame)
    )


def make_production_monitor(actor, version, baseline_version, *, name="prod-drift", **settings):
    return services.create_monitor(
        actor=actor, version=version, name=name, baseline_version=baseline_version, source="production", **settings
    )


def blobs(rows, *, seed, far_share=0.0):
    """Two numeric features around (0, 0); ``far_share`` of the rows planted
    far away at (12, 12), a region the training data never covers."""
    rng = np.random.default_rng(seed)
    points = rng.normal(0, 1, size=(rows, 2))
    far = int(rows * far_share)
    points[:far] += 12
    return pd.DataFrame({"x": points[:, 0], "y": points[:, 1], "channel": rng.choice(["chat", "email"], rows)})


BLOB_COLUMNS = [{"name": "x", "type": "numeric"}, {"name": "y", "type": "numeric"},
                {"name": "channel", "type": "categorical"}]


def make_coverage_monitor(actor, tenant, version, *, name="coverage", baseline_name="training-data", **settings):
    baseline = make_baseline(actor, tenant, blobs(400, seed=1), name=baseline_name, columns=BLOB_COLUMNS,
                             target_column="")
    return make_production_monitor(actor, version, baseline, name=name, kind="coverage", coverage_clusters=4,
                                   coverage_max_uncovered=0.05, **settings)


def run_now(actor, monitor, capture, frame=None, **kwargs):
    """Post ``frame`` (if given) and run the monitor now, on-commit tasks executed."""
    if frame is not None:
        services.post_production_batch(actor=actor, monitor=monitor, frame=frame)
    with capture(execute=True):
        run = services.request_run(actor=actor, monitor=monitor, **kwargs)
    run.refresh_from_db()
    return run
