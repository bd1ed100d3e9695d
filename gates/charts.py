"""Geometry for the gate pictures, as plain dicts the templates draw as inline SVG
(templates/gates/_fidelity.html, _realism.html). Pure: the input is a report
from ``gates.fidelity.evaluate`` or the realism gate's metrics."""
PASS, WARN, FAIL, REAL, SYNTHETIC, MUTED = "#1f8a4c", "#b7791f", "#c53030", "#2f5d8a", "#dd8452", "#9ca3af"
WIDTH, LABEL_W, ROW_H = 640, 200, 22
BAR_W = WIDTH - LABEL_W - 70
OVERLAY_W, OVERLAY_H = 300, 110
# Similarity colours: SDMetrics' report calls ≥ 0.9 good and < 0.75 poor.
GOOD, POOR = 0.9, 0.75


def _color(score):
    if score is None:
        return MUTED
    return PASS if score >= GOOD else WARN if score >= POOR else FAIL


def score_bars(items, plain=()):
    """Horizontal 0–1 bars, one per (label, score), in the order given; labels in ``plain``
    are figures without a good/poor reading and stay neutral."""
    rows = [{"label": label, "score": score, "y": i * ROW_H, "width": round(BAR_W * (score or 0.0), 1),
             "text_x": LABEL_W + round(BAR_W * (score or 0.0), 1) + 6,
             "color": REAL if label in plain else _color(score)}
            for i, (label, score) in enumerate(items)]
    return {"rows": rows, "height": len(rows) * ROW_H + 4, "width": WIDTH, "label_w": LABEL_W, "bar_w": BAR_W}


def overlay(bins, title, score=None, categorical=False):
    """Real and synthetic shares per bin as two interleaved bar series on one axis;
    categorical bins are each labelled, numeric ones at both ends."""
    if not bins:
        return None
    top = max(max(b["real"], b["synthetic"]) for b in bins) or 1.0
    step = OVERLAY_W / len(bins)
    bars = []
    for i, b in enumerate(bins):
        real_h, syn_h = round(OVERLAY_H * b["real"] / top, 1), round(OVERLAY_H * b["synthetic"] / top, 1)
        bars.append({"label": b["label"], "real": b["real"], "synthetic": b["synthetic"],
                     "x": round(i * step, 1), "w": round(step / 2 - 0.5, 1), "syn_x": round(i * step + step / 2, 1),
                     "real_y": round(OVERLAY_H - real_h, 1), "real_h": real_h,
                     "syn_y": round(OVERLAY_H - syn_h, 1), "syn_h": syn_h, "mid": round(i * step + step / 2, 1)})
    return {"title": title, "score": score, "color": _color(score), "bars": bars, "top": top,
            "width": OVERLAY_W, "height": OVERLAY_H, "first": bins[0]["label"], "last": bins[-1]["label"],
            "categorical": categorical}


def paired_bars(items):
    """Real-versus-synthetic bar pairs for (label, real, synthetic) figures on a 0–1 scale."""
    rows = []
    for i, (label, real, synthetic) in enumerate(items):
        y = i * 2 * ROW_H
        rows.append({"label": label, "y": y, "real": real, "synthetic": synthetic,
                     "real_w": round(BAR_W * min(real or 0.0, 1.0), 1),
                     "syn_w": round(BAR_W * min(synthetic or 0.0, 1.0), 1)})
    return {"rows": rows, "height": len(rows) * 2 * ROW_H + 4, "width": WIDTH, "label_w": LABEL_W}


def fidelity(report):
    """Everything _fidelity.html draws for a report."""
    if report.get("modality") == "tabular":
        columns = sorted(report.get("columns", []), key=lambda c: (c["score"] is None, c["score"] or 0.0, c["column"]))
        return {
            "shapes": score_bars([(f'{c["column"]} ({c["metric"]})', c["score"]) for c in columns]),
            "overlays": [o for o in (overlay(w["bins"], w["column"], w["score"], categorical=w["type"] != "numerical")
                                     for w in report.get("worst_columns", [])) if o],
        }
    overall = report.get("overall", {})
    diversity, vocabulary = overall.get("diversity", {}), overall.get("vocabulary", {})
    real, synthetic = diversity.get("real", {}), diversity.get("synthetic", {})
    return {
        "diversity": paired_bars([
            ("distinct-1", real.get("distinct_1"), synthetic.get("distinct_1")),
            ("distinct-2", real.get("distinct_2"), synthetic.get("distinct_2")),
            ("mean pairwise cosine", real.get("mean_pairwise_cosine"), synthetic.get("mean_pairwise_cosine")),
        ]),
        "similarity": score_bars([
            ("length (chars) KS complement", overall.get("lengths", {}).get("chars", {}).get("ks_complement")),
            ("words per text KS complement", overall.get("lengths", {}).get("words", {}).get("ks_complement")),
            ("sentences KS complement", overall.get("lengths", {}).get("sentences", {}).get("ks_complement")),
            ("vocabulary Jaccard", vocabulary.get("jaccard")),
        ], plain=("vocabulary Jaccard",)),
        "length": overlay(report.get("length_histogram", []), "length in characters"),
    }


def realism(metrics, width=WIDTH - 40):
    """The AUC as a dot on a 0–1 axis over its null band, with 0.5 and the max_auc threshold."""
    auc = metrics.get("auc")
    if auc is None:
        return None

    def x(value):
        return round(20 + width * value, 1)

    low, high = metrics.get("null_low"), metrics.get("null_high")
    verdict = metrics.get("verdict")
    return {
        "auc": auc, "null_low": low, "null_high": high, "max_auc": metrics.get("max_auc"), "verdict": verdict,
        "width": width + 40, "auc_x": x(auc), "half_x": x(0.5), "zero_x": x(0.0), "one_x": x(1.0),
        "band_x": x(low) if low is not None else None,
        "band_w": max(round(width * (high - low), 1), 2.0) if low is not None and high is not None else None,
        "threshold_x": x(metrics["max_auc"]) if metrics.get("max_auc") is not None else None,
        "color": PASS if metrics.get("passes") else FAIL,
    }
