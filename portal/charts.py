"""Charts as SVG drawn on the server: no JavaScript, no network, they print, they read on a phone.

Each chart is an image with a title and a description (role="img"); what it shows
is also in a table beside it on the page, which is the accessible version and
holds the links. Sizes are in CSS pixels at the chart's natural width (the pages
never shrink a chart below it on a 390-pixel phone), so 13-pixel text stays
13 pixels. Margins are measured from the longest label, so no axis label is cut.
"""

import hashlib
from html import escape

FONT = 13
CHAR = 0.62 * FONT  # width of a digit or Latin letter
WIDE = FONT  # width of a Chinese character


def text_width(text):
    return sum(WIDE if ord(c) > 0x2E7F else CHAR for c in str(text))


def esc(value):
    return escape(str(value), quote=True)


def number(value):
    return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"


def nice_ceiling(value):
    """A round top for an axis: 1, 2, 2.5 or 5 times a power of ten, at least `value`."""
    if value <= 0:
        return 10
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def open_svg(width, height, title, description, css):
    ident = "c" + hashlib.sha1(f"{title}|{description}".encode()).hexdigest()[:8]
    return [
        f'<svg viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" role="img" '
        f'aria-labelledby="{ident}t {ident}d" class="chart {css}" '
        f'style="max-width: {width:.0f}px">',
        f'<title id="{ident}t">{esc(title)}</title><desc id="{ident}d">{esc(description)}</desc>',
    ]


def bar_chart(rows, title, description, target=None, unit="%", maximum=100):
    """Horizontal bars, one per row ({label, value, below}), with the target as a dashed line."""
    label_width = max((text_width(r["label"]) for r in rows), default=40) + 8
    value_width = text_width(f"{number(maximum)}{unit}") + 8
    bar_area, bar, gap, top = 200, 20, 8, 24
    width = label_width + bar_area + value_width
    height = top + len(rows) * (bar + gap) + 4
    parts = open_svg(width, height, title, description, "bars")
    for i, row in enumerate(rows):
        y = top + i * (bar + gap)
        value = row["value"] or 0
        length = bar_area * min(value, maximum) / maximum
        css = "below" if row.get("below") else "meets"
        parts.append(
            f'<text x="{label_width - 6}" y="{y + 15}" text-anchor="end" class="label">'
            f"{esc(row['label'])}</text>"
            f'<rect x="{label_width}" y="{y}" width="{length:.1f}" height="{bar}" class="{css}"/>'
            f'<text x="{label_width + length + 4:.1f}" y="{y + 15}" class="value">'
            f"{'—' if row['value'] is None else number(value) + unit}</text>"
        )
    if target is not None:
        x = label_width + bar_area * min(target, maximum) / maximum
        parts.append(
            f'<line x1="{x:.1f}" y1="{top - 6}" x2="{x:.1f}" y2="{height - 2}" class="target"/>'
            f'<text x="{x:.1f}" y="{top - 10}" text-anchor="middle" class="value">'
            f"目标 {number(target)}{unit}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def line_chart(series, years, title, description, targets=(), maximum=None, unit="%"):
    """Lines over the years. `series`: [(label, css class, {year: value or None})]; a None is a
    gap, never a zero. `targets`: [(label, css class, {year: value})] drawn dashed."""
    known = [v for _, _, values in series for v in values.values() if v is not None]
    known += [v for _, _, values in targets for v in values.values()]
    top_value = maximum or nice_ceiling(max(known, default=10))
    ticks = [0, top_value / 2, top_value]
    left = max(text_width(f"{number(t)}{unit}") for t in ticks) + 8
    width, height, bottom, top = 320, 180, 24, 12
    span = max(1, len(years) - 1)

    def x(year):
        return left + (width - left - 10) * years.index(year) / span

    def y(value):
        return top + (height - top - bottom) * (1 - value / top_value)

    parts = open_svg(width, height, title, description, "lines")
    for tick in ticks:
        parts.append(
            f'<line x1="{left}" y1="{y(tick):.1f}" x2="{width - 10}" y2="{y(tick):.1f}" '
            f'class="grid"/><text x="{left - 4}" y="{y(tick) + 4:.1f}" text-anchor="end" '
            f'class="axis">{number(tick)}{unit}</text>'
        )
    if years:
        for year, anchor in ((years[0], "start"), (years[-1], "end")):
            parts.append(
                f'<text x="{x(year):.1f}" y="{height - 6}" text-anchor="{anchor}" class="axis">'
                f"{year}</text>"
            )
    for _, css, values in targets:
        points = [f"{x(yr):.1f},{y(v):.1f}" for yr in years if (v := values.get(yr)) is not None]
        if points:
            parts.append(f'<polyline points="{" ".join(points)}" class="target {css}"/>')
    for _, css, values in series:
        segment, segments = [], []
        for year in years:
            value = values.get(year)
            if value is None:
                if segment:
                    segments.append(segment)
                segment = []
            else:
                segment.append((x(year), y(value)))
        if segment:
            segments.append(segment)
        for seg in segments:
            if len(seg) > 1:
                parts.append(
                    f'<polyline points="{" ".join(f"{a:.1f},{b:.1f}" for a, b in seg)}" '
                    f'class="line {css}"/>'
                )
            for a, b in seg:
                parts.append(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="3" class="{css}"/>')
    parts.append("</svg>")
    return "".join(parts)
