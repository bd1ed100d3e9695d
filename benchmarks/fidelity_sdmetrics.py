"""gates.fidelity against SDMetrics' own Quality Report, figure by figure, and their speed.

sdmetrics is not a project dependency: point --sdmetrics-python at an interpreter that has
it (a scratch virtualenv); the reference runs there in a subprocess on the same seeded tables.

    python -m venv /tmp/sdm && /tmp/sdm/bin/pip install sdmetrics==0.32.0
    .venv/bin/python benchmarks/fidelity_sdmetrics.py --sdmetrics-python /tmp/sdm/bin/python [--repeats 3]
    .venv/bin/python benchmarks/fidelity_sdmetrics.py --smoke

Without it, only the registry side runs (its timings and headline figures).
The two sides alternate, ``--repeats`` rounds; times are medians with spread.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from _setup import add_common_arguments, alternate, ratios, repeats, spread  # noqa: E402

from gates.base import Rows  # noqa: E402
from gates.fidelity import evaluate  # noqa: E402

METADATA = {"columns": {"a": {"sdtype": "numerical"}, "b": {"sdtype": "numerical"}, "c": {"sdtype": "categorical"},
                        "d": {"sdtype": "boolean"}, "e": {"sdtype": "numerical"}}}
# Runs inside the sdmetrics interpreter: the report's figures as JSON on stdout.
REFERENCE = r"""
import json, sys, time, warnings
import pandas as pd
warnings.filterwarnings("ignore")
from sdmetrics.reports.single_table import QualityReport
from sdmetrics.single_column import BoundaryAdherence, CategoryAdherence
data, metadata = json.load(open(sys.argv[1])), json.loads(sys.argv[2])
real, synthetic = pd.DataFrame(data["real"]), pd.DataFrame(data["synthetic"])
for frame in (real, synthetic):
    frame["a"] = frame["a"].astype(float)
start = time.perf_counter()
report = QualityReport()
report.generate(real, synthetic, metadata, verbose=False)
seconds = time.perf_counter() - start
shapes, pairs = report.get_details("Column Shapes"), report.get_details("Column Pair Trends")
properties = {r["Property"]: r["Score"] for _, r in report.get_properties().iterrows()}
figures = {"overall": report.get_score(), "column_shapes": properties["Column Shapes"],
           "column_pair_trends": properties["Column Pair Trends"]}
figures.update({"shape " + r["Column"]: r["Score"] for _, r in shapes.iterrows()})
figures.update({f'pair {r["Column 1"]}|{r["Column 2"]}': r["Score"] for _, r in pairs.iterrows()})
figures.update({f'association {r["Column 1"]}|{r["Column 2"]}': r["Real Association"] for _, r in pairs.iterrows()
                if r["Metric"] == "ContingencySimilarity"})
figures.update({"boundary " + c: BoundaryAdherence.compute(real[c], synthetic[c]) for c in "abe"})
figures.update({"category " + c: CategoryAdherence.compute(real[c], synthetic[c]) for c in "cd"})
print(json.dumps({"seconds": seconds, "figures": {k: (None if v != v else float(v)) for k, v in figures.items()}}))
"""


def table(n, shift, rng):
    """Correlated numerical a/b, categorical c tied to a (5% missing), boolean d tied to c, integer e."""
    rows = []
    for _ in range(n):
        a = float(np.round(rng.normal(50 + shift, 12), 2))
        c = "high" if a > 55 + rng.normal(0, 4) else str(rng.choice(["low", "mid"]))
        d = bool(c == "high" or rng.random() < 0.2 + 0.05 * shift)
        row = {"a": a, "b": float(np.round(a * 0.8 + rng.normal(0, 5 + 3 * shift), 2)), "c": c, "d": d,
               "e": int(rng.integers(0, 5)) + (3 if d else 0)}
        if rng.random() < 0.05:
            row["a"] = None
        if rng.random() < 0.05:
            row["c"] = None
        rows.append(row)
    return rows


def rows_of(data):
    return Rows(ids=list(range(len(data))), texts=[""] * len(data), labels=[""] * len(data),
                hashes=[""] * len(data), data=data)


def registry_figures(report):
    figures = {key: report["summary"][key] for key in ("overall", "column_shapes", "column_pair_trends")}
    for c in report["columns"]:
        figures["shape " + c["column"]] = c["score"]
        kind = "boundary " if "boundary_adherence" in c else "category "
        figures[kind + c["column"]] = c.get("boundary_adherence", c.get("category_adherence"))
    for p in report["pairs"]:
        key = "|".join(p["columns"])
        figures["pair " + key] = p["score"] if p["meets_threshold"] else None
        if p["metric"] == "ContingencySimilarity":
            figures["association " + key] = p["real_association"]
    return figures


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=5000, help="real rows; synthetic rows are 70%% of it")
    parser.add_argument("--sdmetrics-python", help="an interpreter with sdmetrics installed")
    parser.add_argument("--seed", type=int, default=11)
    add_common_arguments(parser)
    args = parser.parse_args()
    if args.smoke:
        args.rows = 300
    rng = np.random.default_rng(args.seed)
    real, synthetic = table(args.rows, 0, rng), table(int(args.rows * 0.7), 2, rng)
    reports, references = [], []

    def ours():
        reports.append(evaluate(rows_of(synthetic), rows_of(real), "tabular", seed=args.seed))

    def theirs():
        out = subprocess.run([args.sdmetrics_python, "-c", REFERENCE, data_path, json.dumps(METADATA)],
                             capture_output=True, text=True, check=True)
        references.append(json.loads(out.stdout))
        return references[-1]["seconds"]  # sdmetrics' own time, without interpreter start-up

    runs = {"registry": ours}
    if args.sdmetrics_python:
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
            json.dump({"real": real, "synthetic": synthetic}, handle)
        data_path = handle.name
        runs["sdmetrics"] = theirs
    samples = alternate(runs, repeats(args))
    report = reports[-1]
    ours_figures = registry_figures(report)
    print(f"{len(real):,} real / {len(synthetic):,} synthetic rows, 5 columns")
    print(f"registry evaluate(): {spread(samples['registry'])} (includes the DCR privacy check sdmetrics' report lacks)")
    if not args.sdmetrics_python:
        print(json.dumps(report["summary"], indent=1))
        return
    os.unlink(data_path)
    reference = references[-1]
    print(f"sdmetrics QualityReport: {spread(samples['sdmetrics'])} · ratio registry / sdmetrics "
          f"{ratios(samples['registry'], samples['sdmetrics'])}\n")
    theirs = reference["figures"]
    worst = 0.0
    print(f"{'figure':26s} {'registry':>10s} {'sdmetrics':>10s} {'|diff|':>9s}")
    for key in sorted(theirs):
        mine, ref = ours_figures.get(key), theirs[key]
        if (mine is None) != (ref is None):
            print(f"{key:26s} {mine!s:>10s} {ref!s:>10s}  MISMATCH")
            worst = float("inf")
            continue
        diff = 0.0 if mine is None else abs(mine - ref)
        worst = max(worst, diff)
        print(f"{key:26s} {mine if mine is not None else '—':>10} {ref if ref is not None else '—':>10.8} {diff:9.1e}")
    print(f"\nlargest difference {worst:.1e} ({'agree to 1e-6' if worst < 1e-6 else 'DISAGREE'}; "
          "the registry rounds to 6 places)")


if __name__ == "__main__":
    main()
