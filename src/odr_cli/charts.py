"""Small inline SVG charts for the HTML report: no script, no CDN, readable where the report is opened offline."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from html import escape

WIDTH, HEIGHT = 640, 280
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 28, 48
COLOURS = ("#2b6cb0", "#38a169", "#dd6b20", "#805ad5")


def _svg(title: str, body: list[str], legend: Sequence[str] = ()) -> str:
    keys = [
        f'<rect x="{LEFT + i * 120}" y="6" width="10" height="10" fill="{COLOURS[i % len(COLOURS)]}"/>'
        f'<text x="{LEFT + i * 120 + 14}" y="15" font-size="11">{escape(name)}</text>'
        for i, name in enumerate(legend)
    ]
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" class="chart"><title>{escape(title)}</title>' + "".join(keys + body) + "</svg>"
    )


def _axis(top_value: float, suffix: str = "") -> list[str]:
    """The y axis with four grid lines from 0 to ``top_value``, and the x axis."""
    plot_h = HEIGHT - TOP - BOTTOM
    out = []
    for i in range(5):
        y = HEIGHT - BOTTOM - plot_h * i / 4
        value = top_value * i / 4
        label = f"{value:.0f}{suffix}"
        out.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="#e2e8f0"/>')
        out.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" font-size="10" text-anchor="end">{label}</text>')
    return out


def _nice_top(value: float) -> float:
    """The smallest round axis maximum at or above ``value`` that four grid steps divide into whole numbers."""
    scale = 1
    while True:
        for base in (4, 8, 12, 20, 40):
            if base * scale >= value:
                return float(base * scale)
        scale *= 10


def bar_chart(title: str, labels: Sequence[str], series: dict[str, Sequence[int]], notes: Sequence[str] = ()) -> str:
    """Grouped bars: one group per label, one bar per series; ``notes`` are written above each group."""
    names = list(series)
    peak = max([1, *(v for values in series.values() for v in values)])
    top = _nice_top(peak)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    group_w = plot_w / max(1, len(labels))
    bar_w = group_w * 0.7 / max(1, len(names))
    body = _axis(top)
    for g, label in enumerate(labels):
        x0 = LEFT + g * group_w + group_w * 0.15
        for s, name in enumerate(names):
            value = series[name][g]
            h = plot_h * value / top
            x, y = x0 + s * bar_w, HEIGHT - BOTTOM - h
            body.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w - 2:.1f}" height="{h:.1f}" '
                f'fill="{COLOURS[s % len(COLOURS)]}"><title>{escape(f"{label} {name}: {value}")}</title></rect>'
            )
            body.append(
                f'<text x="{x + bar_w / 2 - 1:.1f}" y="{y - 3:.1f}" font-size="10" text-anchor="middle">{value}</text>'
            )
        centre = LEFT + g * group_w + group_w / 2
        body.append(
            f'<text x="{centre:.1f}" y="{HEIGHT - BOTTOM + 16}" font-size="11" text-anchor="middle">'
            f"{escape(label)}</text>"
        )
        if g < len(notes) and notes[g]:
            body.append(
                f'<text x="{centre:.1f}" y="{HEIGHT - BOTTOM + 32}" font-size="11" text-anchor="middle" '
                f'fill="#2f855a">{escape(notes[g])}</text>'
            )
    return _svg(title, body, names if len(names) > 1 else ())


def line_chart(title: str, labels: Sequence[str], values: Sequence[Decimal | None], suffix: str = "%") -> str:
    """A line over ``labels`` from 0 to 100; a missing value (nothing to rate that step) breaks the line."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(1, len(labels) - 1)
    body = _axis(100, suffix)
    segments: list[list[tuple[float, float]]] = [[]]
    for i, value in enumerate(values):
        if value is None:
            segments.append([])
            continue
        x, y = LEFT + i * step, HEIGHT - BOTTOM - plot_h * float(value) / 100
        segments[-1].append((x, y))
        body.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{COLOURS[0]}">'
            f"<title>{escape(f'{labels[i]}: {value}{suffix}')}</title></circle>"
        )
    for points in segments:
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            body.append(f'<polyline points="{path}" fill="none" stroke="{COLOURS[0]}" stroke-width="2"/>')
    every = max(1, len(labels) // 10)
    for i, label in enumerate(labels):
        if i % every == 0 or i == len(labels) - 1:
            body.append(
                f'<text x="{LEFT + i * step:.1f}" y="{HEIGHT - BOTTOM + 16}" font-size="10" '
                f'text-anchor="middle">{escape(label[5:] if len(label) == 10 else label)}</text>'
            )
    return _svg(title, body)
