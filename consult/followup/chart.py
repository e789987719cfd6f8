"""Indicator charts as SVG drawn on the server: no script, no external file, the same picture in page and report.

``grade_against_target`` and ``line_chart`` are pure functions of plain numbers (tests/test_followup_report.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape

# 達成状況: S well above target / A on target / B below / C well below; "well" is beyond this share of the target.
WELL_BEYOND = 0.005


@dataclass
class Point:
    fiscal_year: int
    target: float | None
    actual: float | None


def grade_against_target(target: float | None, actual: float | None, higher_is_better: bool = True) -> str:
    """S, A, B or C for an actual against its target ("" when either is missing)."""
    if target is None or actual is None:
        return ""
    gap = (actual - target) if higher_is_better else (target - actual)
    margin = abs(target) * WELL_BEYOND
    if gap > margin:
        return "S"
    if gap >= 0:
        return "A"
    if gap >= -margin:
        return "B"
    return "C"


def era_year(fiscal_year: int) -> str:
    """令和 years as the reports write them: 2022 → R4."""
    return f"R{fiscal_year - 2018}" if fiscal_year >= 2019 else str(fiscal_year)


def line_chart(title: str, unit: str, points: list[Point], width: int = 560, height: int = 260) -> str:
    """Targets (dashed) and actuals (solid) per fiscal year, with the values written at each point."""
    left, right, top, bottom = 56, 16, 36, 40
    values = [v for p in points for v in (p.target, p.actual) if v is not None]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}"'
        f' font-family="IPAexGothic, sans-serif" role="img" aria-label="{escape(title, {chr(34): "&quot;"})}">',
        f"<title>{escape(title)}</title>",
        '<rect width="100%" height="100%" fill="#fff"/>',
        f'<text x="{left}" y="20" font-size="14" font-weight="bold">{escape(title)}</text>',
    ]
    if not points or not values:
        parts.append(f'<text x="{left}" y="{height // 2}" font-size="12">—</text></svg>')
        return "".join(parts)
    low, high = min(values), max(values)
    if high == low:
        low, high = low - 1, high + 1
    pad = (high - low) * 0.1
    low, high = low - pad, high + pad
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / max(len(points) - 1, 1)

    def x(i: int) -> float:
        return left + (i * step if len(points) > 1 else plot_w / 2)

    def y(v: float) -> float:
        return top + plot_h - (v - low) / (high - low) * plot_h

    parts.append(
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#333"/>'
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#333"/>'
    )
    for value in (low + pad, high - pad):
        parts.append(
            f'<text x="{left - 4}" y="{y(value) + 4:.1f}" font-size="10" text-anchor="end">'
            f"{value:g}{escape(unit)}</text>"
        )
    for i, p in enumerate(points):
        parts.append(
            f'<text x="{x(i):.1f}" y="{top + plot_h + 16}" font-size="11" text-anchor="middle">'
            f"{era_year(p.fiscal_year)}</text>"
        )
    for attr, colour, dash, _label in (
        ("target", "#888", ' stroke-dasharray="5 4"', "目標"),
        ("actual", "#c33", "", "実績"),
    ):
        coords = [(x(i), y(getattr(p, attr))) for i, p in enumerate(points) if getattr(p, attr) is not None]
        if len(coords) > 1:
            path = " ".join(f"{cx:.1f},{cy:.1f}" for cx, cy in coords)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>')
        for (cx, cy), p in zip(coords, [p for p in points if getattr(p, attr) is not None], strict=True):
            parts.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="3" fill="{colour}"/>')
            parts.append(
                f'<text x="{cx:.1f}" y="{cy - 6:.1f}" font-size="10" text-anchor="middle" fill="{colour}">'
                f"{getattr(p, attr):g}</text>"
            )
    legend_y = height - 8
    parts.append(
        f'<line x1="{left}" y1="{legend_y - 4}" x2="{left + 20}" y2="{legend_y - 4}" stroke="#888"'
        ' stroke-dasharray="5 4"/>'
        f'<text x="{left + 24}" y="{legend_y}" font-size="11">目標</text>'
        f'<line x1="{left + 70}" y1="{legend_y - 4}" x2="{left + 90}" y2="{legend_y - 4}" stroke="#c33"/>'
        f'<text x="{left + 94}" y="{legend_y}" font-size="11">実績</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


def png(svg: str, scale: float = 2.0) -> bytes | None:
    """The same chart as PNG for the DOCX report, or None where the system lacks the cairo library."""
    try:
        import cairosvg  # imported here: only the report needs cairo
    except OSError:  # cairocffi finds no libcairo.so.2: the report still downloads, with its tables
        return None
    return cairosvg.svg2png(bytestring=svg.encode("utf-8"), scale=scale)
