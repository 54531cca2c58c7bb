"""A report as files: an Excel workbook (openpyxl) and a self-contained HTML page with inline SVG charts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from jinja2 import Environment
from markupsafe import Markup

from odr_adapter.clock import local
from odr_adapter.models.directory import CLASS_NAMES
from odr_adapter.stats.counters import CYCLE_BUCKETS, STATUSES
from odr_adapter.stats.figures import Figures, Report
from odr_cli.charts import bar_chart, line_chart
from odr_cli.report_text import COLUMNS, STATUS_NAMES


def cycle_label(bucket: str) -> str:
    """``cycle_3_5`` -> ``3–5天``; ``cycle_15_plus`` -> ``15天以上``."""
    _, low, high = bucket.split("_")
    return f"{low}天以上" if high == "plus" else f"{low}–{high}天"


def _fraction(value: Decimal | None) -> float | None:
    return None if value is None else float(value) / 100


SHEET_COLUMNS: list[tuple[str, Callable[[Figures], Any], str]] = [
    ("登记", lambda f: f.count("received"), "0"),
    ("转ODR", lambda f: f.count("dispatched"), "0"),
    ("办理", lambda f: f.count("handled"), "0"),
    ("和解成功", lambda f: f.count("settled"), "0"),
    ("和解不成", lambda f: f.count("not_settled"), "0"),
    ("退回", lambda f: f.count("returned"), "0"),
    ("撤回", lambda f: f.count("withdrawn"), "0"),
    ("不予受理", lambda f: f.count("rejected"), "0"),
    ("逾期", lambda f: f.count("overdue"), "0"),
    ("和解成功率", lambda f: _fraction(f.success_rate), "0%"),
    ("按时受理率", lambda f: _fraction(f.on_time_acceptance_rate), "0%"),
    ("按时办结率", lambda f: _fraction(f.on_time_closure_rate), "0%"),
    ("平均办理周期(天)", lambda f: None if f.average_cycle_days is None else float(f.average_cycle_days), "0.0"),
    ("挽回经济损失(元)", lambda f: float(f.recovered), "#,##0.00"),
]


def write_xlsx(report: Report, path: Path) -> None:
    from openpyxl import Workbook  # the CLI's dependency only: Lambda functions never write workbooks
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "汇总"
    sheet.append([f"ODR 统计 {report.period.first} 至 {report.period.last}"])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append([report.sentence()])
    sheet.append([])
    rows = [(f"{k}类 {name}", report.by_class[k]) for k, name in CLASS_NAMES.items()] + [("合计", report.total)]
    _figures_table(sheet, "类别", rows)
    if report.by_station:
        stations = book.create_sheet("市场监管所")
        _figures_table(
            stations,
            "市场监管所",
            [(report.station_names.get(c, c), f) for c, f in sorted(report.by_station.items())],
        )
    trend = book.create_sheet("按时办结趋势")
    trend.append(["日期" if report.period.daily else "月份", "办理", "按时办结", "按时办结率"])
    for label, f in report.trend:
        trend.append([label, f.count("handled"), f.count("closed_on_time"), _fraction(f.on_time_closure_rate)])
        trend.cell(trend.max_row, 4).number_format = "0%"
    cycle = book.create_sheet("办理周期分布")
    cycle.append(["办理周期", "件数"])
    for bucket in CYCLE_BUCKETS:
        cycle.append([cycle_label(bucket), report.total.count(bucket)])
    now = book.create_sheet("当前状态")
    now.append(["状态", "件数"])
    for status in STATUSES:
        now.append([STATUS_NAMES[status], report.now.count(f"status_{status}")])
    book.save(path)


def _figures_table(sheet: Any, label: str, rows: list[tuple[str, Figures]]) -> None:
    from openpyxl.styles import Font

    sheet.append([label, *(h for h, _, _ in SHEET_COLUMNS)])
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for name, figures in rows:
        sheet.append([name, *(get(figures) for _, get, _ in SHEET_COLUMNS)])
        for i, (_, _, number_format) in enumerate(SHEET_COLUMNS, start=2):
            sheet.cell(sheet.max_row, i).number_format = number_format
    sheet.column_dimensions["A"].width = 30


PAGE = """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ODR 统计 {{ first }} 至 {{ last }}</title>
<style>
body{font-family:system-ui,"PingFang SC","Microsoft YaHei",sans-serif;margin:24px auto;max-width:980px;
padding:0 12px;color:#1a202c}
h1{font-size:1.4em}.sentence{font-size:1.1em;background:#f7fafc;border-left:4px solid #2b6cb0;padding:12px}
table{border-collapse:collapse;margin:12px 0;font-size:.9em}th,td{border:1px solid #cbd5e0;padding:4px 8px}
td.n{text-align:right}section{margin:28px 0}.chart{width:100%;max-width:640px;height:auto}
small{color:#718096}
</style></head><body>
<h1>ODR 统计报告 {{ first }} 至 {{ last }}</h1>
<p class="sentence" id="sentence">{{ sentence }}</p>
<section><h2>各类企业办理量与和解成功率</h2>{{ class_chart }}</section>
<section><h2>按时办结率趋势</h2>{{ trend_chart }}</section>
<section><h2>办理周期分布</h2>{{ cycle_chart }}</section>
{% for table in tables %}<section><h2>{{ table.title }}</h2><table>
<tr><th>{{ table.label }}</th>{% for h in headers %}<th>{{ h }}</th>{% endfor %}</tr>
{% for name, cells in table.rows %}<tr><td>{{ name }}</td>
{% for c in cells %}<td class="n">{{ c }}</td>{% endfor %}</tr>
{% endfor %}</table></section>{% endfor %}
<section><h2>当前案件状态</h2><table>{% for status, n in now %}<tr><td>{{ status }}</td><td class="n">{{ n }}</td></tr>
{% endfor %}</table></section>
<p><small>生成于 {{ generated }};数据来自统计计数器(按日/按月),不读取案件明细。</small></p>
</body></html>
"""


def render_html(report: Report, generated: datetime) -> str:
    classes = [f"{k}类" for k in CLASS_NAMES]
    class_figures = [report.by_class[k] for k in CLASS_NAMES]
    class_chart = bar_chart(
        "各类企业办理量与和解成功率",
        classes,
        {"办理": [f.count("handled") for f in class_figures], "和解成功": [f.count("settled") for f in class_figures]},
        notes=[f"成功率 {f.success_rate}%" if f.success_rate is not None else "" for f in class_figures],
    )
    trend_chart = line_chart(
        "按时办结率", [label for label, _ in report.trend], [f.on_time_closure_rate for _, f in report.trend]
    )
    cycle_chart = bar_chart(
        "办理周期分布(件)",
        [cycle_label(b) for b in CYCLE_BUCKETS],
        {"件数": [report.total.count(b) for b in CYCLE_BUCKETS]},
    )

    def rows(pairs: list[tuple[str, Figures]]) -> list[tuple[str, list[str]]]:
        return [(name, [fmt(f) for _, fmt in COLUMNS]) for name, f in pairs]

    tables = [
        {
            "title": "按企业类别",
            "label": "类别",
            "rows": rows(
                [(f"{k}类 {n}", report.by_class[k]) for k, n in CLASS_NAMES.items()] + [("合计", report.total)]
            ),
        }
    ]
    if report.by_station:
        tables.append(
            {
                "title": "按市场监管所",
                "label": "市场监管所",
                "rows": rows([(report.station_names.get(c, c), f) for c, f in sorted(report.by_station.items())]),
            }
        )
    template = Environment(autoescape=True).from_string(PAGE)
    return template.render(
        first=report.period.first,
        last=report.period.last,
        sentence=report.sentence(),
        # The charts are markup built by charts.py, which escapes every text it puts in them.
        class_chart=Markup(class_chart),
        trend_chart=Markup(trend_chart),
        cycle_chart=Markup(cycle_chart),
        headers=[h for h, _ in COLUMNS],
        tables=tables,
        now=[(STATUS_NAMES[s], report.now.count(f"status_{s}")) for s in STATUSES],
        generated=f"{local(generated):%Y-%m-%d %H:%M}",
    )


def write_html(report: Report, path: Path, generated: datetime) -> None:
    path.write_text(render_html(report, generated), encoding="utf-8")
