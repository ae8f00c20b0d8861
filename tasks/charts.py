"""Charts drawn on the server as SVG: bars, donuts, trend lines and the timeline (挂图作战).

No JavaScript and no CDN: the page prints as it shows. Every label goes through `escape`;
the functions return SafeString of markup they built themselves.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

FONT = "font-family=\"Noto Sans CJK SC,WenQuanYi Micro Hei,Microsoft YaHei,sans-serif\""
PALETTE = ["#0b5f8a", "#2e8b57", "#d4a017", "#c0392b", "#7d5ba6", "#5b6776", "#16a085", "#e67e22"]
LIGHT_COLORS = {"red": "#c0392b", "yellow": "#d4a017", "green": "#2e8b57", "closed": "#5b6776",
                "sustaining": "#0b5f8a"}


@dataclass(frozen=True)
class Item:
    label: str
    value: float
    href: str = ""
    color: str = ""


def _link(inner: str, href: str) -> str:
    return f'<a href="{escape(href)}">{inner}</a>' if href else inner


def _svg(width: int, height: int, title: str, body: str) -> SafeString:
    return mark_safe(  # noqa: S308 (labels escaped above, numbers formatted by us)
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" style="max-width:{width}px" role="img" aria-label="{escape(title)}" {FONT}>'
        f"<title>{escape(title)}</title>{body}</svg>"
    )


def bar_chart(items: Sequence[Item], *, title: str, width: int = 560, label_width: int = 200) -> SafeString:
    """Horizontal bars, one per item, value written at the end of the bar."""
    bar_h, gap = 20, 6
    height = max(1, len(items)) * (bar_h + gap) + 10
    top = max((i.value for i in items), default=0) or 1
    room = width - label_width - 50
    parts = []
    for n, item in enumerate(items):
        y = 5 + n * (bar_h + gap)
        w = room * item.value / top
        color = item.color or PALETTE[0]
        label = escape(item.label if len(item.label) <= 16 else item.label[:15] + "…")
        parts.append(_link(
            f'<text x="{label_width - 6}" y="{y + 15}" text-anchor="end" font-size="12" fill="#1d2733">'
            f'<title>{escape(item.label)}</title>{label}</text>'
            f'<rect x="{label_width}" y="{y}" width="{w:.1f}" height="{bar_h}" rx="3" fill="{color}"/>'
            f'<text x="{label_width + w + 5:.1f}" y="{y + 15}" font-size="12" fill="#1d2733">{item.value:g}</text>',
            item.href,
        ))
    return _svg(width, height, title, "".join(parts))


def donut(items: Sequence[Item], *, title: str, size: int = 170, center: str = "") -> SafeString:
    """A ring of shares with a legend at its side; empty items are left out of the ring."""
    total = sum(i.value for i in items)
    r, stroke = size / 2 - 18, 26
    cx = cy = size / 2
    circumference = 2 * math.pi * r
    parts = [f'<circle cx="{cx}" cy="{cy}" r="{r:.1f}" fill="none" stroke="#eef2f6" stroke-width="{stroke}"/>']
    offset = 0.0
    for n, item in enumerate(items):
        if not total or not item.value:
            continue
        length = circumference * item.value / total
        color = item.color or PALETTE[n % len(PALETTE)]
        parts.append(_link(
            f'<circle cx="{cx}" cy="{cy}" r="{r:.1f}" fill="none" stroke="{color}" stroke-width="{stroke}" '
            f'stroke-dasharray="{length:.2f} {circumference - length:.2f}" stroke-dashoffset="{-offset:.2f}" '
            f'transform="rotate(-90 {cx} {cy})"><title>{escape(item.label)}:{item.value:g}</title></circle>',
            item.href,
        ))
        offset += length
    parts.append(f'<text x="{cx}" y="{cy + 6}" text-anchor="middle" font-size="18" font-weight="700" '
                 f'fill="#1d2733">{escape(center or f"{total:g}")}</text>')
    legend_x = size + 10
    for n, item in enumerate(items):
        y = 16 + n * 20
        color = item.color or PALETTE[n % len(PALETTE)]
        parts.append(_link(
            f'<rect x="{legend_x}" y="{y - 10}" width="12" height="12" rx="2" fill="{color}"/>'
            f'<text x="{legend_x + 18}" y="{y}" font-size="12" fill="#1d2733">{escape(item.label)} {item.value:g}</text>',
            item.href,
        ))
    height = max(size, 20 * len(items) + 10)
    return _svg(size + 200, height, title, "".join(parts))


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]  # None: no value (e.g. after the as-of day)
    color: str
    dashed: bool = False


def line_chart(days: Sequence[dt.date], series: Sequence[Series], *, title: str, width: int = 720,
               height: int = 240, marker: dt.date | None = None, marker_label: str = "") -> SafeString:
    """Trend lines over weeks, with an optional vertical marker (today or the as-of day)."""
    left, right, top, bottom = 40, 10, 24, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max((v for s in series for v in s.values if v is not None), default=0) or 1
    n = max(len(days) - 1, 1)

    def x(i: float) -> float:
        return left + plot_w * i / n

    def y(v: float) -> float:
        return top + plot_h * (1 - v / peak)

    parts = []
    for k in range(5):  # horizontal grid with values
        v = peak * k / 4
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#d9dee5"/>'
                     f'<text x="{left - 4}" y="{y(v) + 4:.1f}" text-anchor="end" font-size="10" fill="#5b6776">{v:.0f}</text>')
    step = max(1, len(days) // 8)
    for i in range(0, len(days), step):  # dates along the bottom
        parts.append(f'<text x="{x(i):.1f}" y="{height - 8}" text-anchor="middle" font-size="10" '
                     f'fill="#5b6776">{days[i]:%Y-%m}</text>')
    for s in series:
        points = [f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(s.values) if v is not None]
        if points:
            dash = ' stroke-dasharray="5 4"' if s.dashed else ""
            parts.append(f'<polyline fill="none" stroke="{s.color}" stroke-width="2"{dash} points="{" ".join(points)}">'
                         f"<title>{escape(s.name)}</title></polyline>")
    if marker and days and days[0] <= marker <= days[-1] + dt.timedelta(days=6):
        i = (marker - days[0]).days / 7
        parts.append(f'<line x1="{x(i):.1f}" x2="{x(i):.1f}" y1="{top}" y2="{top + plot_h}" stroke="#c0392b" '
                     f'stroke-dasharray="3 3"/><text x="{x(i) + 3:.1f}" y="{top + 10}" font-size="10" '
                     f'fill="#c0392b">{escape(marker_label)}</text>')
    for n_s, s in enumerate(series):  # legend
        lx = left + n_s * 150
        dash = ' stroke-dasharray="5 4"' if s.dashed else ""
        parts.append(f'<line x1="{lx}" x2="{lx + 18}" y1="10" y2="10" stroke="{s.color}" stroke-width="3"{dash}/>'
                     f'<text x="{lx + 22}" y="14" font-size="11" fill="#1d2733">{escape(s.name)}</text>')
    return _svg(width, height, title, "".join(parts))


@dataclass(frozen=True)
class TimelineRow:
    label: str
    href: str
    start: dt.date
    end: dt.date | None  # None: long-term, the bar runs to the axis' end
    original_end: dt.date | None
    color: str
    milestones: Sequence[tuple[str, dt.date, bool]]  # (title, due, done)
    note: str = ""


def timeline(rows: Sequence[TimelineRow], *, start: dt.date, end: dt.date, today: dt.date,
             as_of: dt.date | None = None, title: str, width: int = 1100) -> SafeString:
    """挂图作战: one bar per task from the plan's start to its deadline, milestones as diamonds
    (filled when done), the original deadline as a tick when it was extended, and a red line
    for today (and a blue one for the as-of day when it differs)."""
    label_w, row_h, top = 260, 24, 30
    plot_w = width - label_w - 20
    span = max((end - start).days, 1)
    height = top + len(rows) * row_h + 10

    def x(day: dt.date) -> float:
        return label_w + plot_w * min(max((day - start).days, 0), span) / span

    parts = []
    month = dt.date(start.year, start.month, 1)
    months = (end.year - start.year) * 12 + end.month - start.month + 1
    every = max(1, months // 12)
    k = 0
    while month <= end:  # month grid, labelled every few months
        if k % every == 0:
            parts.append(f'<line x1="{x(month):.1f}" x2="{x(month):.1f}" y1="{top - 6}" y2="{height}" stroke="#eef2f6"/>'
                         f'<text x="{x(month) + 2:.1f}" y="{top - 10}" font-size="10" fill="#5b6776">{month:%Y-%m}</text>')
        month = dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)
        k += 1
    for n, row in enumerate(rows):
        y = top + n * row_h
        label = row.label if len(row.label) <= 20 else row.label[:19] + "…"
        parts.append(_link(f'<text x="4" y="{y + 16}" font-size="12" fill="#1d2733"><title>{escape(row.label)}</title>'
                           f"{escape(label)}</text>", row.href))
        bar_end = x(row.end) if row.end else x(end)
        dash = "" if row.end else ' fill-opacity="0.35"'
        parts.append(f'<rect x="{x(row.start):.1f}" y="{y + 6}" width="{max(bar_end - x(row.start), 2):.1f}" '
                     f'height="12" rx="3" fill="{row.color}"{dash}><title>{escape(row.note)}</title></rect>')
        if row.original_end and row.end and row.original_end != row.end:
            parts.append(f'<line x1="{x(row.original_end):.1f}" x2="{x(row.original_end):.1f}" y1="{y + 2}" '
                         f'y2="{y + 22}" stroke="#1d2733" stroke-width="2"><title>{escape(_("原定时限"))} {row.original_end}</title></line>')
        for m_title, due, done in row.milestones:
            cx, cy = x(due), y + 12
            fill = "#1d2733" if done else "#fff"
            parts.append(f'<path d="M{cx:.1f} {cy - 6} L{cx + 6:.1f} {cy} L{cx:.1f} {cy + 6} L{cx - 6:.1f} {cy} Z" '
                         f'fill="{fill}" stroke="#1d2733"><title>{escape(m_title)} {due}</title></path>')
    markers = [(today, "#c0392b", _("今天"))]
    if as_of and as_of != today:
        markers.append((as_of, "#0b5f8a", _("截至")))
    for day, color, text in markers:
        if start <= day <= end:
            parts.append(f'<line x1="{x(day):.1f}" x2="{x(day):.1f}" y1="{top - 4}" y2="{height}" stroke="{color}" '
                         f'stroke-width="2"/><text x="{x(day) + 3:.1f}" y="{height - 2}" font-size="10" '
                         f'fill="{color}">{escape(text)}</text>')
    return _svg(width, height, title, "".join(parts))
