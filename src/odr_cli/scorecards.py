"""Enterprise scorecards as text for the operator's terminal: the table, then the two lists the bureau's rules draw
from it, enterprises to commend (红榜) and those named for exit review (动态退出), each with the figures behind it.
The scorecards themselves are computed in :mod:`odr_adapter.stats.scorecards` (the monthly message uses them too).
"""

from __future__ import annotations

from collections.abc import Sequence

from odr_adapter.models.scorecard_rules import ScorecardRules
from odr_adapter.stats.figures import Period
from odr_adapter.stats.scorecards import Scorecard
from odr_cli.report_text import percent, text_table


def scorecard_text(cards: Sequence[Scorecard], period: Period, rules: ScorecardRules) -> str:
    header = ["类别", "转ODR", "办理", "按时受理", "按时办结", "和解成功率", "同类成功率", "逾期", "排名"]
    rows: list[tuple[str, list[str]] | None] = [("企业", header)]
    for card in cards:
        f = card.figures
        rows.append(
            (
                card.enterprise.name,
                [
                    card.enterprise.enterprise_class,
                    str(f.count("dispatched")),
                    str(f.count("handled")),
                    percent(f.on_time_acceptance_rate),
                    percent(f.on_time_closure_rate),
                    percent(f.success_rate),
                    percent(card.class_figures.success_rate),
                    str(f.count("overdue")),
                    str(card.rank) if card.ranked else f"不排名(少于{rules.exit_review.min_cases}件)",
                ],
            )
        )
    lines = [f"企业动态管理评分 {period.first} 至 {period.last}", *text_table(rows), ""]
    lines += commended_lines(cards, rules)
    lines.append("")
    lines += exit_review_lines(cards)
    return "\n".join(lines)


def commended_lines(cards: Sequence[Scorecard], rules: ScorecardRules) -> list[str]:
    rule = rules.commend
    bars = [f"按时受理率不低于{rule.min_on_time_acceptance}%", f"按时办结率不低于{rule.min_on_time_closure}%"]
    if rule.settlement_at_least_class:
        bars.append("和解成功率不低于同类企业")
    condition = f"{'、'.join(bars)},转ODR和办理各不少于{rule.min_cases}件"
    named = [c for c in cards if c.commended]
    if not named:
        return [f"红榜: 无企业达到条件({condition})"]
    lines = [f"红榜: {len(named)} 家企业({condition})"]
    for card in named:
        e = card.enterprise
        lines.append(f"  {e.name} ({e.uscc}, {e.enterprise_class}类): " + "; ".join(m.text() for m in card.merits))
    return lines


def exit_review_lines(cards: Sequence[Scorecard]) -> list[str]:
    flagged = [c for c in cards if c.exit_review]
    if not flagged:
        return ["动态退出审查: 无企业低于阈值"]
    lines = [f"动态退出审查: {len(flagged)} 家企业低于阈值"]
    for card in flagged:
        e = card.enterprise
        lines.append(f"  {e.name} ({e.uscc}, {e.enterprise_class}类): " + "; ".join(f.text() for f in card.flags))
    return lines
