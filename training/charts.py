"""Inline SVG pictures for the mix page, drawn server-side (no JS)."""
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

BAR_WIDTH = 520
SYNTHETIC, REAL, BEFORE = "#b7791f", "#2f5d8a", "#cbd5e0"


def ratio_bar(*, synthetic, real, cap):
    """One bar split real / synthetic, with the cap drawn as a line."""
    total = max(synthetic + real, 1)
    synthetic_width = round(BAR_WIDTH * synthetic / total, 1)
    cap_mark = ""
    if cap is not None:
        x = round(BAR_WIDTH * cap, 1)
        cap_mark = format_html(
            '<line x1="{}" y1="0" x2="{}" y2="40" stroke="#c53030" stroke-width="2"/>'
            '<text x="{}" y="52" font-size="11" fill="#c53030">cap {}</text>', x, x, x + 3, f"{cap:.0%}",
        )
    return format_html(
        '<svg class="chart" role="img" width="{}" height="58" viewBox="0 0 {} 58">'
        "<title>Synthetic {} of {} rows ({})</title>"
        '<rect x="0" y="8" width="{}" height="24" fill="{}"/>'
        '<rect x="{}" y="8" width="{}" height="24" fill="{}"/>{}</svg>',
        BAR_WIDTH + 60, BAR_WIDTH + 60, synthetic, total, f"{synthetic / total:.1%}",
        synthetic_width, SYNTHETIC, synthetic_width, round(BAR_WIDTH - synthetic_width, 1), REAL, cap_mark,
    )


def label_bars(before, after):
    """Per label: rows in the pool (grey) and kept (real + synthetic stacked)."""
    labels = sorted(before, key=lambda label: -sum(before[label].values()))
    widest = max((sum(before[label].values()) for label in labels), default=1) or 1
    scale = (BAR_WIDTH - 200) / widest
    rows = []
    for i, label in enumerate(labels):
        y = i * 26
        pool = sum(before[label].values())
        kept = after.get(label, {"real": 0, "synthetic": 0})
        real_w, synthetic_w = kept["real"] * scale, kept["synthetic"] * scale
        rows.append((
            y + 14, label[:28] or "(no label)", y + 2, round(pool * scale, 1), BEFORE,
            y + 6, round(real_w, 1), REAL, round(real_w, 1), y + 6, round(synthetic_w, 1), SYNTHETIC,
            round(pool * scale + 206, 1), y + 15, f"{kept['real'] + kept['synthetic']:,} of {pool:,}",
        ))
    body = format_html_join(
        "",
        '<text x="0" y="{}" font-size="12">{}</text>'
        '<rect x="200" y="{}" width="{}" height="18" fill="{}"/>'
        '<rect x="200" y="{}" width="{}" height="10" fill="{}"/>'
        '<rect x="{}" y="{}" width="{}" height="10" fill="{}" transform="translate(200 0)"/>'
        '<text x="{}" y="{}" font-size="11" fill="#6b7280">{}</text>',
        rows,
    )
    height = len(labels) * 26 + 4
    return format_html(
        '<svg class="chart" role="img" width="{}" height="{}" viewBox="0 0 {} {}">'
        "<title>Label distribution before and after the cap</title>{}</svg>",
        BAR_WIDTH + 120, height, BAR_WIDTH + 120, height, mark_safe(body),
    )
