"""Inline SVG pictures for a version's judges page, drawn server-side (no JS)."""
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from .selectors import BINS

BAR, NEUTRAL, ALERT = "#2f5d8a", "#9ca3af", "#c53030"
PLOT_W, PLOT_H, LEFT, TOP = 300, 90, 36, 8


def histogram(counts, *, title, threshold=None):
    """Ten bars over [0, 1]; bars past ``threshold`` (and its line) in red."""
    top = max(counts, default=0) or 1
    width = PLOT_W / BINS
    bars = []
    for i, count in enumerate(counts):
        height = round(PLOT_H * count / top, 1)
        past = threshold is not None and i / BINS >= threshold
        bars.append((
            round(LEFT + i * width + 1, 1), round(TOP + PLOT_H - height, 1), round(width - 2, 1), height,
            ALERT if past else BAR, f"{i / BINS:.1f}–{(i + 1) / BINS:.1f}: {count:,}",
        ))
    body = format_html_join(
        "", '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}</title></rect>', bars
    )
    guide = ""
    if threshold is not None:
        x = round(LEFT + PLOT_W * threshold, 1)
        guide = format_html(
            '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-dasharray="4 3"/>'
            '<text x="{}" y="{}" font-size="10" fill="{}">t = {}</text>',
            x, TOP, x, TOP + PLOT_H, ALERT, x + 3, TOP + 10, ALERT, f"{threshold:g}",
        )
    height = TOP + PLOT_H + 22
    return format_html(
        '<svg class="chart" role="img" width="{}" height="{}" viewBox="0 0 {} {}"><title>{}</title>'
        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}"/>'
        '<text x="0" y="{}" font-size="10" fill="#6b7280">{}</text>'
        '<text x="{}" y="{}" font-size="10" fill="#6b7280">0</text>'
        '<text x="{}" y="{}" font-size="10" fill="#6b7280" text-anchor="end">1</text>{}{}</svg>',
        LEFT + PLOT_W + 10, height, LEFT + PLOT_W + 10, height, title,
        LEFT, TOP + PLOT_H, LEFT + PLOT_W, TOP + PLOT_H, NEUTRAL, TOP + 10, f"{top:,}",
        LEFT, height - 6, LEFT + PLOT_W, height - 6, mark_safe(body), guide,
    )


def _shade(share):
    """White (no agreement) to blue (full agreement); grey when nothing co-scored."""
    if share is None:
        return "#f3f4f6"
    level = round(255 - 175 * share)
    return f"rgb({level},{min(255, level + 25)},255)"


def agreement_matrix(matrix):
    """Judge × judge cells: share of co-scored examples within the threshold."""
    cell, left, top = 64, 130, 24
    cells, labels = [], []
    for row, (judge, entries) in enumerate(matrix):
        labels.append((4, top + row * cell + cell // 2 + 4, "start", judge[:18]))
        labels.append((left + row * cell + cell // 2, top - 8, "middle", judge[:9]))
        for col, (other, share, count) in enumerate(entries):
            x, y = left + col * cell, top + row * cell
            text = "—" if share is None else f"{share:.0%}"
            cells.append((x, y, cell - 2, cell - 2, _shade(share), f"{judge} vs {other}: {text} of {count:,}",
                          x + cell // 2, y + cell // 2 + 4, text))
    body = format_html_join(
        "", '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}</title></rect>'
            '<text x="{}" y="{}" font-size="12" text-anchor="middle">{}</text>', cells,
    )
    names = format_html_join("", '<text x="{}" y="{}" font-size="11" text-anchor="{}">{}</text>', labels)
    width, height = left + len(matrix) * cell + 4, top + len(matrix) * cell + 4
    return format_html(
        '<svg class="chart" role="img" width="{}" height="{}" viewBox="0 0 {} {}">'
        "<title>Judge agreement matrix</title>{}{}</svg>",
        width, height, width, height, mark_safe(body), mark_safe(names),
    )
