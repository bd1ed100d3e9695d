"""The Evidently part of a run. Evidently is imported inside ``compare`` only
(its import costs seconds): web processes and other jobs never load it.

``compare`` runs ``Report([DataDriftPreset(...)], include_tests=True)`` on the
reference and current frames, optionally in column chunks so wide data keeps
memory bounded, and reads back per column the method Evidently chose, its
threshold, the drift score and the drift verdict (the preset's own per-column
test), plus the dataset-level share of drifted columns.
"""
from dataclasses import dataclass, field

from .models import ColumnType

# Evidently's DataDriftPreset compares numerical, categorical and text columns.
DRIFT_TYPES = {ColumnType.NUMERIC: "numerical_columns", ColumnType.CATEGORICAL: "categorical_columns",
               ColumnType.TEXT: "text_columns"}


@dataclass
class Comparison:
    columns: dict  # column -> {"method", "threshold", "score", "drifted"}
    drift_share: float
    failed: bool
    reports: list = field(default_factory=list)  # [(html, json)] per Evidently pass

    @property
    def drifted(self):
        return sorted(name for name, entry in self.columns.items() if entry["drifted"])


def drift_columns(columns):
    """The (name, type) of defined columns Evidently can compare."""
    return [column for column in columns if column["type"] in DRIFT_TYPES]


def data_definition(columns):
    from evidently import DataDefinition

    groups = {argument: [] for argument in DRIFT_TYPES.values()}
    for column in columns:
        groups[DRIFT_TYPES[column["type"]]].append(column["name"])
    return DataDefinition(**groups)


def preset(columns, *, column_methods, drift_share):
    """The DataDriftPreset for these columns, with the monitor's per-column
    methods and thresholds (Evidently's defaults for the rest)."""
    from evidently.presets import DataDriftPreset

    names = [column["name"] for column in columns]
    methods = {name: spec["method"] for name, spec in column_methods.items() if name in names and spec.get("method")}
    thresholds = {
        name: float(spec["threshold"]) for name, spec in column_methods.items()
        if name in names and spec.get("threshold") is not None
    }
    return DataDriftPreset(
        columns=names, drift_share=drift_share, per_column_method=methods or None,
        per_column_threshold=thresholds or None,
    )


def read_snapshot(snapshot):
    """Per-column results of a DataDriftPreset snapshot, and its drifted share."""
    content = snapshot.dict()
    columns, share = {}, None
    for metric in content["metrics"]:
        config = metric["config"]
        if config["type"].endswith(":ValueDrift"):
            columns[config["column"]] = {
                "method": config.get("method"), "threshold": config.get("threshold"),
                "score": float(metric["value"]), "drifted": False,
            }
        elif config["type"].endswith(":DriftedColumnsCount"):
            share = float(metric["value"]["share"])
    for test in content["tests"]:
        params = test["metric_config"]["params"]
        if params["type"].endswith(":ValueDrift") and params["column"] in columns:
            columns[params["column"]]["drifted"] = test["status"] == "FAIL"
    return columns, share


def compare(reference, current, *, columns, column_methods=None, drift_share=0.5, chunk=None, keep_reports=True):
    """Compare ``current`` with ``reference`` over ``columns`` ([{"name", "type"}])."""
    from evidently import Dataset, Report

    columns = drift_columns(columns)
    if not columns:
        raise ValueError("no numeric, categorical or text column to compare")
    chunk = chunk or len(columns)
    results, reports = {}, []
    for start in range(0, len(columns), chunk):
        part = columns[start:start + chunk]
        names = [column["name"] for column in part]
        definition = data_definition(part)
        snapshot = Report([preset(part, column_methods=column_methods or {}, drift_share=drift_share)],
                          include_tests=True).run(
            current_data=Dataset.from_pandas(current[names], data_definition=definition),
            reference_data=Dataset.from_pandas(reference[names], data_definition=definition),
        )
        found, _ = read_snapshot(snapshot)
        results.update(found)
        if keep_reports:
            reports.append((snapshot.get_html_str(as_iframe=False), snapshot.json()))
    share = sum(entry["drifted"] for entry in results.values()) / len(results)
    # Evidently's dataset drift: the drifted share reaches the threshold.
    return Comparison(columns=results, drift_share=share, failed=share >= drift_share, reports=reports)
