"""A chart per time series (matplotlib, headless): PNG or SVG bytes the CLI writes and the console embeds."""

from __future__ import annotations

import io
from pathlib import Path

from campaigns.reports.base import Report
from dnc.errors import UserError

FORMATS = {".png": "png", ".svg": "svg"}


def chart_format(path: str | Path) -> str:
    fmt = FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise UserError(f"{path}: a chart is written as .png or .svg")
    return fmt


def render(report: Report, fmt: str = "png") -> bytes:
    """Draw the report's series (rates in percent; the limit as a dashed line); refuse reports without one."""
    if report.series is None:
        hint = " (group it by day or hour)" if report.by not in (None, "day", "hour") else ""
        raise UserError(f"report {report.name!r} has no time series to chart{hint}")
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    s = report.series
    labels = {c.key: c.label for c in report.columns}
    kinds = {c.key: c.kind for c in report.columns}
    xs = [str(r.get(s.x)) for r in report.rows]
    fig = Figure(figsize=(max(6.0, min(16.0, 0.35 * len(xs) + 3)), 3.6), dpi=110)
    ax = fig.add_subplot()
    for y in s.ys:
        scale = 100.0 if kinds.get(y) == "rate" else 1.0
        vals = [None if r.get(y) is None else r[y] * scale for r in report.rows]
        ax.plot(xs, [float("nan") if v is None else v for v in vals], marker="o", markersize=3,
                label=labels.get(y, y))
    if s.limit is not None:
        ax.axhline(s.limit * 100.0, color="#b00020", linestyle="--", linewidth=1,
                   label=f"{s.limit_label} {s.limit * 100:.1f}%")
    if any(kinds.get(y) == "rate" for y in s.ys):
        ax.set_ylabel("%")
        ax.set_ylim(bottom=0)
    ax.set_title(f"{report.title} — {report.campaign} ({report.period.first_day} .. {report.period.last_day})",
                 fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    step = max(1, len(xs) // 15)
    ax.set_xticks(range(0, len(xs), step), [xs[i] for i in range(0, len(xs), step)], rotation=45, ha="right",
                  fontsize=7)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, metadata={"Date": None} if fmt == "svg" else None)
    return buf.getvalue()


def write(report: Report, path: str | Path) -> Path:
    path = Path(path)
    data = render(report, chart_format(path))
    try:
        path.write_bytes(data)
    except OSError as e:
        raise UserError(f"{path}: cannot write the chart ({e.strerror})") from None
    return path
