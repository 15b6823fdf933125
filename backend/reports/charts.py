"""A small bar chart drawn on the server as SVG: no JavaScript, readable by a screen reader (role="img" with a
summary) and by a mouse or a long press (a <title> on each bar)."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 480  # drawn at about 330 px on a phone: the 16-unit labels read as 11 px
HEIGHT = 220
LEFT = 6  # the plot starts here …
TOP = 26  # … under the maximum's label
BOTTOM = 28  # room for the labels under the bars
INK = "#4d4d4d"
BAR = "#0b5d3b"


@dataclass
class Bar:
    label: str  # under the bar (some are left out when there are many)
    value: int
    title: str  # what the bar says when pointed at: "2 Nov: Rp 2.600.000"


def bar_chart(bars: list[Bar], *, summary: str, top_label: str, max_labels: int = 6) -> Markup:
    """The bars left to right, scaled to the largest value (labelled `top_label` at the top); at most
    `max_labels` labels under the bars, the first and the last always among them. `summary` is what a screen
    reader announces."""
    plot_width, plot_height = WIDTH - 2 * LEFT, HEIGHT - TOP - BOTTOM
    largest = max((bar.value for bar in bars), default=0) or 1
    slot = plot_width / max(len(bars), 1)
    gap = min(slot * 0.2, 6)
    every = max(1, -(-len(bars) // max_labels))  # ceiling division
    baseline = TOP + plot_height
    parts = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" '
            f'class="chart" role="img" aria-label="{escape(summary)}">'
        ),
        f'<text x="{LEFT}" y="17" font-size="16" fill="{INK}">{escape(top_label)}</text>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{WIDTH - LEFT}" y2="{TOP}" stroke="#c9c9c9" stroke-dasharray="4 4"/>',
        f'<line x1="{LEFT}" y1="{baseline}" x2="{WIDTH - LEFT}" y2="{baseline}" stroke="{INK}"/>',
        f'<g fill="{BAR}">',
    ]
    for index, bar in enumerate(bars):
        height = round(plot_height * max(bar.value, 0) / largest, 1)
        x = round(LEFT + index * slot + gap / 2, 1)
        parts.append(
            f'<rect class="bar" x="{x}" y="{round(baseline - height, 1)}" width="{round(slot - gap, 1)}" '
            f'height="{height}" data-value="{bar.value}"><title>{escape(bar.title)}</title></rect>'
        )
    parts.append(f'</g><g font-size="16" fill="{INK}" text-anchor="middle">')
    last = len(bars) - 1
    for index, bar in enumerate(bars):
        # Every `every`-th label, and the last one, which pushes aside a regular one too close to it; the first
        # and last are aligned to the plot's edges so they are not cut off.
        if index != last and (index % every or last - index < every):
            continue
        if last and index == 0:
            x, anchor = LEFT, ' text-anchor="start"'
        elif last and index == last:
            x, anchor = WIDTH - LEFT, ' text-anchor="end"'
        else:
            x, anchor = round(LEFT + (index + 0.5) * slot, 1), ""
        parts.append(f'<text x="{x}" y="{HEIGHT - 8}"{anchor}>{escape(bar.label)}</text>')
    parts.append("</g></svg>")
    return Markup("".join(parts))


@dataclass
class Step:
    label: str  # the step's name, at the start of its bar
    value: int


FUNNEL_ROW = 40  # each step's band: its name above, its bar below
FUNNEL_LABEL_WIDTH = 64  # room at the bar's end for its number


def funnel_chart(steps: list[Step], *, title: str, description: str) -> Markup:
    """The steps top to bottom as horizontal bars scaled to the largest, each with its name and number written out,
    so the chart reads without colour or pointing; `title` and `description` are what a screen reader announces
    (the figures are in a table beside it too)."""
    height = TOP + FUNNEL_ROW * len(steps)
    largest = max((step.value for step in steps), default=0) or 1
    plot_width = WIDTH - 2 * LEFT - FUNNEL_LABEL_WIDTH
    parts = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="100%" class="chart" '
            'role="img" aria-labelledby="funnel-title funnel-desc">'
        ),
        f'<title id="funnel-title">{escape(title)}</title><desc id="funnel-desc">{escape(description)}</desc>',
        f'<g font-size="16" fill="{INK}">',
    ]
    for index, step in enumerate(steps):
        top = TOP / 2 + index * FUNNEL_ROW
        width = round(plot_width * max(step.value, 0) / largest, 1)
        parts.append(
            f'<text x="{LEFT}" y="{round(top + 12, 1)}">{escape(step.label)}</text>'
            f'<rect class="bar" x="{LEFT}" y="{round(top + 17, 1)}" width="{width}" height="16" fill="{BAR}" '
            f'data-value="{step.value}"/>'
            f'<text x="{round(LEFT + width + 6, 1)}" y="{round(top + 30, 1)}">{step.value}</text>'
        )
    parts.append("</g></svg>")
    return Markup("".join(parts))
