"""The cascade as a funnel: inline SVG drawn server-side (no JS)."""
from django.utils.html import format_html, format_html_join

WIDTH, ROW, LABEL, BAR = 680, 30, 170, 380
KEPT, REJECTED = "#2f5d8a", "#c53030"


def funnel_svg(stages):
    """One centred bar per stage (candidates, then each gate's survivors), its
    width proportional to the rows left; the rows a gate removed in red."""
    if not stages:
        return ""
    top = max(stages[0]["count"], 1)
    rows = []
    for i, stage in enumerate(stages):
        y = i * ROW + 4
        kept = BAR * stage["count"] / top
        lost = BAR * stage["rejected"] / top
        x = LABEL + (BAR - kept) / 2
        rows.append((
            y + 16, stage["label"][:26],
            round(x - lost / 2, 1), y, round(lost, 1), REJECTED,
            round(x, 1), y, round(kept, 1), KEPT,
            LABEL + BAR + 8, y + 16, f"{stage['count']:,}" + (f"  −{stage['rejected']:,}" if stage["rejected"] else ""),
        ))
    body = format_html_join(
        "",
        '<text x="0" y="{}" font-size="12">{}</text>'
        '<rect x="{}" y="{}" width="{}" height="22" fill="{}" opacity="0.35"/>'
        '<rect x="{}" y="{}" width="{}" height="22" fill="{}"/>'
        '<text x="{}" y="{}" font-size="12" fill="#374151">{}</text>',
        rows,
    )
    height = len(stages) * ROW + 8
    return format_html(
        '<svg class="chart funnel" role="img" width="{}" height="{}" viewBox="0 0 {} {}">'
        "<title>Gate funnel: {} candidates, {} accepted</title>{}</svg>",
        WIDTH, height, WIDTH, height, f"{stages[0]['count']:,}", f"{stages[-1]['count']:,}", body,
    )
