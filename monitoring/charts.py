"""Inline SVG time series of monitor runs, drawn server-side (no JS)."""
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

WIDTH, HEIGHT, LEFT, TOP = 640, 160, 40, 10
PLOT_W, PLOT_H = WIDTH - LEFT - 150, HEIGHT - TOP - 30
COLORS = ["#c53030", "#2f5d8a", "#b7791f", "#2f855a", "#6b46c1"]
SEVERITY_CAP = 3.0


def _x(index, count):
    return round(LEFT + (PLOT_W * index / (count - 1) if count > 1 else PLOT_W / 2), 1)


def _y(value, top):
    return round(TOP + PLOT_H * (1 - min(value, top) / top), 1)


def _frame(title, top, guide, guide_label, runs, body):
    axis = format_html(
        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#9ca3af"/>'
        '<text x="0" y="{}" font-size="10" fill="#6b7280">{}</text><text x="0" y="{}" font-size="10" fill="#6b7280">0</text>'
        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#c53030" stroke-dasharray="4 3"/>'
        '<text x="{}" y="{}" font-size="10" fill="#c53030">{}</text>',
        LEFT, TOP + PLOT_H, LEFT + PLOT_W, TOP + PLOT_H, TOP + 8, top, TOP + PLOT_H,
        LEFT, _y(guide, top), LEFT + PLOT_W, _y(guide, top), LEFT + PLOT_W + 4, _y(guide, top) + 3, guide_label,
    )
    dates = ""
    if runs:
        dates = format_html(
            '<text x="{}" y="{}" font-size="10" fill="#6b7280">{}</text>'
            '<text x="{}" y="{}" font-size="10" fill="#6b7280" text-anchor="end">{}</text>',
            LEFT, HEIGHT - 4, runs[0].scheduled_for.strftime("%Y-%m-%d %H:%M"),
            LEFT + PLOT_W, HEIGHT - 4, runs[-1].scheduled_for.strftime("%Y-%m-%d %H:%M"),
        )
    return format_html(
        '<svg class="chart" role="img" width="{}" height="{}" viewBox="0 0 {} {}"><title>{}</title>{}{}{}</svg>',
        WIDTH, HEIGHT, WIDTH, HEIGHT, title, axis, dates, body,
    )


def _line(points, color):
    path = " ".join(f"{x},{y}" for x, y in points)
    return format_html('<polyline fill="none" stroke="{}" stroke-width="2" points="{}"/>', color, path)


def share_chart(runs, threshold, *, value, title):
    """One share per run (``value(run)``, None when not judged); failing runs are red dots."""
    judged = [(run, value(run)) for run in runs if value(run) is not None]
    points = [(_x(i, len(judged)), _y(share, 1.0)) for i, (_, share) in enumerate(judged)]
    dots = format_html_join(
        "", '<circle cx="{}" cy="{}" r="4" fill="{}"><title>{}: {} ({})</title></circle>',
        ((x, y, COLORS[0] if run.outcome == "fail" else COLORS[1], run.scheduled_for.strftime("%Y-%m-%d %H:%M"),
          f"{share:.0%}", run.outcome) for (x, y), (run, share) in zip(points, judged)),
    )
    body = mark_safe(_line(points, COLORS[1]) + dots) if points else ""
    return _frame(title, 1.0, threshold, f"fails at {threshold:.0%}", [run for run, _ in judged], body)


def worst_columns(runs, limit=4):
    """The columns that came closest to (or past) drifting, worst first."""
    worst = {}
    for run in runs:
        for name, entry in run.column_metrics.items():
            worst[name] = max(worst.get(name, 0.0), entry.get("severity", 0.0))
    return sorted(worst, key=lambda name: -worst[name])[:limit]


def worst_columns_chart(runs):
    """Per worst column, score against its threshold (>= 1 drifted) per run."""
    judged = [run for run in runs if run.column_metrics]
    names = worst_columns(judged)
    lines, legend = [], []
    for color, name in zip(COLORS, names):
        points = [(_x(i, len(judged)), _y(run.column_metrics.get(name, {}).get("severity", 0.0), SEVERITY_CAP))
                  for i, run in enumerate(judged)]
        lines.append(_line(points, color))
        legend.append(format_html('<text x="{}" y="{}" font-size="11" fill="{}">{}</text>',
                                  LEFT + PLOT_W + 60, TOP + 12 + 14 * len(legend), color, name[:14]))
    return _frame("Worst columns: drift score against threshold", SEVERITY_CAP, 1.0, "drifts at 1",
                  judged, mark_safe("".join(lines + legend)))
