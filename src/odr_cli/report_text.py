"""Reports as text for an operator's terminal and the tables of the HTML page: the per-class and per-station
columns, percentages, and alignment that gives CJK characters their two columns."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from decimal import Decimal

from odr_adapter.models.directory import CLASS_NAMES
from odr_adapter.stats.counters import STATUSES
from odr_adapter.stats.figures import Figures, Report

STATUS_NAMES = {
    "received": "已登记待分流",
    "screening": "待监管所受理审查",
    "dispatched": "待企业受理",
    "accepted": "企业办理中",
    "under_review": "待监管所审核",
    "closed": "已办结",
}


def percent(value: Decimal | None) -> str:
    return "—" if value is None else f"{value}%"


COLUMNS: list[tuple[str, Callable[[Figures], str]]] = [
    ("登记", lambda f: str(f.count("received"))),
    ("转ODR", lambda f: str(f.count("dispatched"))),
    ("办理", lambda f: str(f.count("handled"))),
    ("和解成功", lambda f: str(f.count("settled"))),
    ("和解不成", lambda f: str(f.count("not_settled"))),
    ("退回", lambda f: str(f.count("returned"))),
    ("撤回", lambda f: str(f.count("withdrawn"))),
    ("成功率", lambda f: percent(f.success_rate)),
    ("按时受理", lambda f: percent(f.on_time_acceptance_rate)),
    ("按时办结", lambda f: percent(f.on_time_closure_rate)),
    ("平均周期", lambda f: "—" if f.average_cycle_days is None else str(f.average_cycle_days)),
    ("挽回金额(元)", lambda f: f"{f.recovered:.2f}"),
]


def width(text: str) -> int:
    """Columns a terminal gives ``text``: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def text_table(rows: list[tuple[str, list[str]] | None]) -> list[str]:
    """Rows of a label and right-aligned cells (None: an empty line), aligned for a terminal."""
    present = [r for r in rows if r is not None]
    label_width = max(width(label) for label, _ in present)
    cell_widths = [max(width(cells[i]) for _, cells in present) for i in range(len(present[0][1]))]
    out = []
    for row in rows:
        if row is None:
            out.append("")
            continue
        label, cells = row
        line = label + " " * (label_width - width(label))
        line += "".join(" " * (w - width(c) + 2) + c for c, w in zip(cells, cell_widths, strict=True))
        out.append(line)
    return out


def report_table(report: Report) -> str:
    """The per-class table with its total, the per-station table if the report has stations, the status now."""
    header = [h for h, _ in COLUMNS]
    rows: list[tuple[str, list[str]] | None] = [("类别", header)]
    rows += [(f"{k}类 {name}", [fmt(report.by_class[k]) for _, fmt in COLUMNS]) for k, name in CLASS_NAMES.items()]
    rows.append(("合计", [fmt(report.total) for _, fmt in COLUMNS]))
    if report.by_station:
        rows += [None, ("市场监管所", header)]
        rows += [
            (report.station_names.get(code, code), [fmt(figures) for _, fmt in COLUMNS])
            for code, figures in sorted(report.by_station.items())
        ]
    status = ", ".join(f"{STATUS_NAMES[s]} {report.now.count(f'status_{s}')}" for s in STATUSES)
    return "\n".join([*text_table(rows), "", f"当前案件状态: {status}"])
