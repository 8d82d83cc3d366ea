"""Small, labelled SVG bar charts drawn in Python (pure), for the self-contained dashboard.

No JavaScript and no network: the page works opened from disk.  Each chart
has a title, a labelled y axis with its unit, and a legend.  Every text put
into the SVG is escaped here, so a chart is returned as markup the
autoescaping dashboard template inserts as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

from markupsafe import Markup

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 70, 16, 34, 56


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def bar_chart(title: str, labels: Sequence[str], series: Sequence[tuple[str, Sequence[float], str]],
              unit: str, fmt: Callable[[float], str]) -> Markup:
    """A grouped bar chart as an ``<svg>`` element, every text in it escaped here (so it is safe markup).

    :param labels: one label per group (x axis)
    :param series: (name, values per group, colour)
    :param unit: the y axis unit, shown in its label
    :param fmt: formats a y value for the axis ticks
    """
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top = _nice_max(max([v for _, values, _ in series for v in values] or [0]))
    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}">',
             f'<text x="{LEFT}" y="18" class="title">{escape(title)}</text>',
             f'<text x="14" y="{TOP + plot_h / 2}" class="axis" transform="rotate(-90 14 {TOP + plot_h / 2})" '
             f'text-anchor="middle">{escape(unit)}</text>']
    for i in range(5 if labels else 0):
        value = top * i / 4
        y = TOP + plot_h - plot_h * i / 4
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" class="tick" text-anchor="end">{escape(fmt(value))}</text>')
    groups = max(1, len(labels))
    group_w = plot_w / groups
    bar_w = max(2.0, min(28.0, group_w * 0.8 / max(1, len(series))))
    for g, label in enumerate(labels):
        x0 = LEFT + g * group_w + (group_w - bar_w * len(series)) / 2
        for s, (name, values, colour) in enumerate(series):
            value = values[g]
            height = plot_h * value / top
            parts.append(f'<rect x="{x0 + s * bar_w:.1f}" y="{TOP + plot_h - height:.1f}" width="{bar_w:.1f}" '
                         f'height="{height:.1f}" fill="{colour}"><title>{escape(name)} {escape(label)}: '
                         f'{escape(fmt(value))}</title></rect>')
        if groups <= 12 or g % max(1, groups // 12) == 0:
            parts.append(f'<text x="{LEFT + (g + 0.5) * group_w:.1f}" y="{HEIGHT - BOTTOM + 16}" class="tick" '
                         f'text-anchor="middle">{escape(label)}</text>')
    for s, (name, _, colour) in enumerate(series):
        x = LEFT + s * 170
        parts.append(f'<rect x="{x}" y="{HEIGHT - 18}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{x + 14}" y="{HEIGHT - 9}" class="legend">{escape(name)}</text>')
    if not labels:
        parts.append(f'<text x="{LEFT + plot_w / 2}" y="{TOP + plot_h / 2}" class="empty" text-anchor="middle">'
                     "no data yet</text>")
    parts.append("</svg>")
    return Markup("".join(parts))
