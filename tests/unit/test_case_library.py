"""The case library: closed cases anonymised (no person, enterprise, number, address or complaint id survives in
either format), their path as day-offset steps, deadlines met or missed, amounts as bands."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from odr_adapter.models.case import Case, Decision, EnterpriseRef, HistoryEvent
from odr_adapter.models.deadlines import Deadline
from odr_adapter.models.directory import District
from odr_adapter.stats.figures import Period
from odr_cli.case_library import (
    amount_band,
    closed_in,
    directory_mentions,
    labeller,
    library_case,
    write_jsonl,
    write_xlsx,
)
from odr_cli.pii import Mentions, fold_width, record_mentions, scrub_text

from .conftest import load_example

REGISTERED = datetime.fromisoformat("2026-11-30T09:12:44+08:00")

LEAKY_DESCRIPTION = (
    "本人林晓，于2026-11-25在金枫云购官方旗舰店购买电热水壶（订单号TM202611250001），底座漏电。"
    "联系电话：１３７ ６１２３ ４５６７，备用+86 138-1234-5678，家里固话(021) 5712-3456。"
    "身份证号310116 19900101 123x。邮箱 lin.xiao.2026@mail.example.com.cn。"
    "收货地址：朱泾镇人民路123弄4号502室，林女士平时不在家，可寄到阳光小区3栋2单元1201室。"
)
LEAKY_DEMAND = "退货退款，请联系林晓 13761234567 或 ｌｉｎ．ｘｉａｏ．２０２６＠ｍａｉｌ．ｅｘａｍｐｌｅ．ｃｏｍ．ｃｎ"
LEAKY_SUMMARY = (
    "已与消费者林晓电话沟通（0086 13761234567），专员孙悦确认订单ＴＭ２０２６１１２５０００１，"
    "退款199元至 LIN.XIAO.2026@MAIL.EXAMPLE.COM.CN 对应账户，快递单号SF1234567890123已寄回。"
    "联系人王小明先生确认，电热水壶已退回。"
)
LEAKY_COMMENT = "请补充与林晓的沟通记录：住址人民路123弄4号，身份证31011619900101123X，电话021-57123456。"
# Every value above that must not survive, compared without spaces, dashes, brackets and case.
SECRETS = [
    "林晓",
    "13761234567",
    "13812345678",
    "02157123456",
    "57123456",
    "31011619900101123x",
    "lin.xiao.2026",
    "mail.example.com.cn",
    "人民路",
    "123弄",
    "502室",
    "1201室",
    "阳光小区",
    "tm202611250001",
    "sf1234567890123",
    "金枫云购",
    "上海金枫云购电子商务有限公司",
    "孙悦",
    "王小明",
    "林女士",
    "3101160000000202611300012",
]


def squeezed(text: str) -> str:
    return re.sub(r"[\s()（）+\-]", "", fold_width(text)).lower()


def leaky_record(complaint_id: str = "3101160000000202611300012") -> dict[str, Any]:
    record = load_example("odr-by-uscc")
    record["complaint_id"] = complaint_id
    record["consumer"] = {
        "name": "林晓",
        "phone": "13761234567",
        "email": "lin.xiao.2026@mail.example.com.cn",
        "address": "上海市金山区朱泾镇人民路123弄4号502室",
        "id_number": "31011619900101123X",
    }
    record["description"] = LEAKY_DESCRIPTION
    record["demand"] = LEAKY_DEMAND
    return record


def _deadline(phase: str, due: datetime) -> Deadline:
    return Deadline.model_validate(
        {
            "phase": phase,
            "due_at": due,
            "remind_at": due - timedelta(hours=4),
            "policy": "A",
            "calendar": "natural",
            "calendar_version": "test",
        }
    )


def closed_case(
    complaint_id: str = "3101160000000202611300012",
    station_code: str = "JS-ZJ",
    days: int = 6,
    overdue: bool = False,
) -> Case:
    """A settled case after one send-back closed ``days`` after registration (or returned, overdue at acceptance)."""

    def at(day: int, clock: str) -> datetime:
        return datetime.fromisoformat(f"{(REGISTERED.date() + timedelta(days=day)).isoformat()}T{clock}+08:00")

    if overdue:
        events = [(0, "09:13", "received"), (0, "09:14", "dispatched"), (2, "09:14", "overdue"), (2, "09:15", "closed")]
    else:
        events = [
            (0, "09:13", "received"),
            (0, "09:13", "execution_started"),
            (0, "09:14", "dispatched"),
            (0, "09:14", "notified"),
            (0, "09:15", "waiting"),
            (1, "10:00", "accepted"),
            (3, "15:00", "result_reported"),
            (4, "09:00", "sent_back"),
            (days - 1, "11:00", "result_reported"),
            (days, "09:30", "approved"),
            (days, "09:31", "closed"),
        ]
    history = [
        HistoryEvent(
            version=n,
            event=event,
            actor="test",
            at=at(day, clock),
            detail={"phase": "acceptance"} if event == "overdue" else {"comment": LEAKY_COMMENT},
        )
        for n, (day, clock, event) in enumerate(events, start=1)
    ]
    closed_at = history[-1].at
    return Case(
        complaint_id=complaint_id,
        revision=1,
        version=len(history),
        status="closed",
        outcome="returned" if overdue else "settled",
        registered_at=REGISTERED,
        received_at=REGISTERED,
        record=leaky_record(complaint_id),
        execution_name=f"case-{complaint_id}",
        station_code=station_code,
        enterprise=EnterpriseRef(uscc="91310116MA1JK7Q26H", name="上海金枫云购电子商务有限公司", enterprise_class="A"),
        screening=Decision(rule="accepted", reason="符合受理条件"),
        route=Decision(rule="odr_directory_member", reason="企业在ODR目录中"),
        deadlines={
            "acceptance": _deadline("acceptance", at(2, "09:14")),
            "resolution": _deadline("resolution", at(9, "23:59")),
            **({} if overdue else {"review": _deadline("review", at(days + 1, "23:59"))}),
        },
        overdue=overdue,
        overdue_phase="acceptance" if overdue else None,
        send_backs=0 if overdue else 1,
        review_comment=None if overdue else LEAKY_COMMENT,
        recovered_amount=Decimal("0.00") if overdue else Decimal("199.00"),
        closed_at=closed_at,
        cycle_days=Decimal((closed_at - REGISTERED).total_seconds() / 86400).quantize(Decimal("0.01")),
        process_summary="企业未在acceptance期限内反馈，退回监管部门常规处理" if overdue else LEAKY_SUMMARY,
        history=history,
    )


def assert_nothing_personal(text: str) -> None:
    flat = squeezed(text)
    survivors = [secret for secret in SECRETS if squeezed(secret) in flat]
    assert survivors == [], f"personal data survived: {survivors}"


def exported_texts(tmp_path: Path, cases: list[Case], district: District) -> tuple[str, str]:
    """The JSON lines file and every cell of the workbook, as text."""
    known = directory_mentions(district)
    library = [library_case(c, labeller(b"salt")(c.complaint_id), known) for c in cases]
    write_jsonl(library, tmp_path / "cases.jsonl")
    write_xlsx(library, tmp_path / "cases.xlsx")
    book = load_workbook(tmp_path / "cases.xlsx")
    cells = [str(v) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for v in row if v]
    return (tmp_path / "cases.jsonl").read_text(encoding="utf-8"), "\n".join(cells)


def test_no_personal_data_survives_in_either_format(tmp_path: Path, district: District) -> None:
    jsonl, xlsx = exported_texts(
        tmp_path, [closed_case(), closed_case("3101160000000202611300013", overdue=True)], district
    )
    for text in (jsonl, xlsx):
        assert_nothing_personal(text)
        assert "电热水壶" in text and "底座漏电" in text and "退货退款" in text  # the story itself is kept
    exported = json.loads(jsonl.splitlines()[0])
    assert "本人[姓名]" in exported["description"] and "某女士" in exported["description"]
    assert "[邮箱]" in exported["demand"] and "[地址]" in exported["review_comment"]


def test_a_case_is_its_path_steps_deadlines_and_bands(district: District) -> None:
    exported = library_case(closed_case(), "C-1", directory_mentions(district))
    assert exported.steps == [
        "D+0 received",
        "D+0 dispatched",
        "D+1 accepted",
        "D+3 result",
        "D+4 sent back",
        "D+5 result",
        "D+6 approved",
        "D+6 closed",
    ]
    assert exported.path == "received → dispatched → accepted → result → sent back → result → approved → closed"
    assert exported.deadlines == {"acceptance": "met", "resolution": "met", "review": "met"}
    assert (exported.category, exported.enterprise_class, exported.outcome) == (
        "quality",
        "A类 大型综合类电商",
        "settled",
    )
    assert (exported.claimed, exported.recovered, exported.cycle_days) == ("100–500", "100–500", 6.01)
    assert (exported.screening, exported.route) == ("accepted", "odr_directory_member")


def test_an_overdue_case_missed_its_phase_and_never_reached_the_next() -> None:
    exported = library_case(closed_case(overdue=True), "C-2", Mentions())
    assert exported.deadlines == {"acceptance": "missed", "resolution": "not reached"}
    assert exported.steps == ["D+0 received", "D+0 dispatched", "D+2 overdue (acceptance)", "D+2 closed"]
    assert (exported.recovered, exported.review_comment) == ("0–100", None)


@pytest.mark.parametrize(
    ("amount", "band"),
    [
        (None, None),
        ("0.00", "0–100"),
        ("99.99", "0–100"),
        ("100", "100–500"),
        ("1999.99", "500–2,000"),
        ("2000", "2,000–10,000"),
        ("10000", "10,000+"),
    ],
)
def test_amount_bands(amount: str | None, band: str | None) -> None:
    assert amount_band(Decimal(amount) if amount else None) == band


def test_cases_closed_within_the_period_in_shanghai_days() -> None:
    inside = closed_case("3101160000000202611300021", days=6)  # closed 2026-12-06 09:31 local
    after = closed_case("3101160000000202611300022", days=7)
    late_evening = closed_case("3101160000000202611300023", days=6)
    late_evening.closed_at = datetime.fromisoformat("2026-12-06T23:59:00+08:00")  # 15:59 UTC, still the 6th
    period = Period(date(2026, 11, 30), date(2026, 12, 6))
    assert [c.complaint_id for c in closed_in([after, late_evening, inside, inside], period)] == [
        inside.complaint_id,
        late_evening.complaint_id,
    ]


def test_labels_are_stable_per_salt_and_hide_the_complaint_id() -> None:
    cid = "3101160000000202611300012"
    first, again, other = labeller(b"one")(cid), labeller(b"one")(cid), labeller(b"two")(cid)
    assert first == again != other
    assert re.fullmatch(r"C-[0-9a-f]{12}", first) and cid not in first


@pytest.mark.parametrize(
    ("text", "gone"),
    [
        ("电话１３９１２３４５６７８", "13912345678"),
        ("电话 139 1234 5678", "13912345678"),
        ("电话+86-139-1234-5678", "13912345678"),
        ("座机（021）5712 3456转8", "57123456"),
        ("客服热线400-820-8820", "4008208820"),
        ("身份证11010519491231002x", "11010519491231002x"),
        ("邮件 zhang.san.work@corp.example.org", "zhang.san.work"),
        ("住在南京东路100号3号楼1201室", "南京东路"),
        ("寄到3栋2单元1201室", "1201"),
        ("订单JD-2026-1125-778899", "778899"),
        ("卡号6222 0212 3456 7890", "6222"),
        ("投诉人：欧阳娜娜，", "欧阳娜娜"),
        ("联系人李娜称已收到", "李娜"),
        ("赵师傅上门维修", "赵师傅"),
    ],
)
def test_free_text_shapes_are_removed_without_knowing_the_values(text: str, gone: str) -> None:
    assert squeezed(gone) not in squeezed(scrub_text(text, Mentions()))


@pytest.mark.parametrize(
    "text",
    ["2026-11-25购买，12月5号退款199.00元，型号KW-1708", "水壶底座电路故障，思路清晰", "消费者要求退货退款，商家同意"],
)
def test_ordinary_text_is_kept(text: str) -> None:
    assert scrub_text(text, Mentions()) == text


def test_the_records_own_values_are_known_mentions() -> None:
    mentions = record_mentions(leaky_record())
    assert mentions.names == ("林晓",)
    assert "金枫云购" in mentions.organisations and "天猫" in mentions.organisations
    assert {"人民路", "人民路123弄4号502室"} <= set(mentions.addresses)
    assert scrub_text("林晓的快递放在天猫驿站", mentions) == "[姓名]的快递放在[企业]驿站"
