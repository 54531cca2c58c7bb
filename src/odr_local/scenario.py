"""Scenario files: which complaints arrive, and how simulated enterprises, stations and consumers behave.

See docs/scenarios.md for the format. Behaviours are assigned per complaint, deterministically from the seed,
unless the scenario pins one to a complaint id.
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from odr_adapter.clock import local
from odr_adapter.models.deadlines import DeadlinePolicies
from odr_adapter.models.directory import District

from .simulator import FeedOptions
from .timelines import Step


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Behaviour(_Strict):
    """What happens to one ODR case."""

    weight: float = 1.0
    accept: Literal["on_time", "late", "never", "decline"] = "on_time"
    result: Literal["settled", "not_settled", "never"] = "settled"
    recovered: str = "full"  # full | half | none | a decimal amount
    station: Literal["approve", "send_back_once", "never"] = "approve"
    withdraw: Literal["no", "while_waiting_acceptance", "while_waiting_result"] = "no"
    screening: Literal["accept", "regular", "refuse", "never"] = "accept"  # stations that screen by hand


class Timing(_Strict):
    """Simulated days after a wait starts at which the actor acts."""

    accept_after_days: float = 0.4
    result_after_days: float = 1.5
    review_after_days: float = 0.3
    withdraw_after_days: float = 0.2


class Complaints(_Strict):
    generate: int = Field(default=0, ge=0)
    seed: int = 12315
    spread_days: float = 1.0
    file: str | None = None  # JSON Lines of contract records, relative to the scenario file


class Scenario(_Strict):
    name: str
    start: datetime
    complaints: Complaints = Complaints()
    behaviours: list[Behaviour] = Field(default_factory=lambda: [Behaviour()])
    pinned: dict[str, Behaviour] = Field(default_factory=dict)
    timing: Timing = Timing()
    deadline_policies: DeadlinePolicies | None = None
    feed: FeedOptions = FeedOptions()
    manual_screening: list[str] = Field(default_factory=list)  # codes of the stations that screen by hand
    max_days: float = 20.0
    parameters: dict[str, str] = Field(default_factory=dict)  # template.yaml parameters to override
    config_env: str | None = None  # a samconfig.toml environment to deploy (odr-local --config-env overrides it)
    # Every n-th complaint (in id order): its specialist accepts and its station reviews from their worklists,
    # signed in by a login link, instead of following the message's link (0: never)
    worklist_every: int = Field(default=0, ge=0)
    # Complaints whose people act by a script instead of a behaviour: complaint id -> steps (odr_local.timelines)
    timelines: dict[str, list[Step]] = Field(default_factory=dict)
    path: Path | None = Field(default=None, exclude=True)

    @classmethod
    def load(cls, path: Path) -> Scenario:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        scenario = cls.model_validate(data)
        scenario.path = path
        return scenario

    def by_worklist(self, ids: list[str]) -> set[str]:
        """The complaints whose people work from their worklists: every ``worklist_every``-th id in order."""
        n = self.worklist_every
        return {cid for i, cid in enumerate(sorted(ids), start=1) if n and i % n == 0}

    def behaviour_for(self, complaint_id: str) -> Behaviour:
        if complaint_id in self.pinned:
            return self.pinned[complaint_id]
        rng = random.Random(f"{self.complaints.seed}:{complaint_id}")
        return rng.choices(self.behaviours, weights=[b.weight for b in self.behaviours])[0]

    def records(self, district: District) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        if self.complaints.file:
            base = self.path.parent if self.path else Path.cwd()
            lines = (base / self.complaints.file).read_text(encoding="utf-8").splitlines()
            out.extend(json.loads(line) for line in lines if line.strip())
        out.extend(
            generate(
                self.complaints.generate,
                self.complaints.seed,
                self.start,
                self.complaints.spread_days,
                district,
            )
        )
        return out


SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任"
    "沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬鹏晓宇浩然子涵欣怡梓萱雨轩"
ITEMS = {
    "A": [
        ("电热水壶", "199.00"),
        ("空气炸锅", "459.00"),
        ("蓝牙耳机", "329.00"),
        ("生鲜礼盒", "268.00"),
        ("羽绒服", "899.00"),
    ],
    "B": [
        ("文创茶具", "388.00"),
        ("扫地机器人", "1999.00"),
        ("大闸蟹礼券", "598.00"),
        ("婴儿推车", "1299.00"),
        ("手机壳", "59.00"),
    ],
    "C": [("蟠桃礼盒", "88.50"), ("鲜花花束", "168.00"), ("连衣裙", "239.00"), ("农家土鸡蛋", "66.00")],
}
PROBLEMS = [
    ("quality", "收到的商品存在质量问题,与描述不符,联系客服未获解决。", "refund", "退货退款"),
    ("delivery", "商品迟迟未发货,超过承诺时间一周仍未收到。", "refund", "退款"),
    ("after_sales", "商品使用几天后损坏,商家拒绝售后维修。", "repair", "免费维修或更换"),
    ("false_advertising", "商品宣传的功能实际不具备,属于虚假宣传。", "compensation", "退一赔三"),
    ("price", "下单后商家擅自加价,要求补差价才发货。", "refund", "按原价发货或退款"),
]
PLATFORMS = ["天猫", "京东", "拼多多", "抖音", "美团"]


def _phone(rng: random.Random) -> str:
    return f"1{rng.choice(['30', '35', '37', '38', '39', '58', '86'])}{rng.randint(10_000_000, 99_999_999)}"


def generate(count: int, seed: int, start: datetime, spread_days: float, district: District) -> list[dict[str, Any]]:
    """Realistic complaints: mostly against directory enterprises, some by shop name only, and a few of
    every refusal and regular-handling kind."""
    rng = random.Random(seed)
    enterprises = district.enterprises
    out = []
    for n in range(count):
        at = start + timedelta(days=rng.uniform(0, spread_days))
        ent = rng.choice(enterprises)
        item, amount = rng.choice(ITEMS[ent.enterprise_class])
        category, description, demand_type, demand = rng.choice(PROBLEMS)
        kind = rng.choices(["uscc", "shop", "outsider", "barred", "elsewhere", "opt_out"], [60, 20, 8, 4, 3, 5])[0]
        respondent: dict[str, Any] = {"name": ent.name, "uscc": ent.uscc, "platform": rng.choice(PLATFORMS)}
        district_code = rng.choice([s for s in district.stations if s.code == ent.station_code] or district.stations)
        if district_code.division_codes:
            respondent["division_code"] = district_code.division_codes[0]
        if kind == "shop":
            respondent = {
                "name": ent.shop_names[0],
                "shop_name": ent.shop_names[0].replace("店", " 店"),
                "platform": respondent["platform"],
            }
        elif kind == "outsider":
            respondent = {
                "name": "上海某电器销售有限公司",
                "uscc": "91310116MA1R2T4U5E",
                "division_code": "310116104",
            }
        purchased = local(at - timedelta(days=rng.randint(3, 40))).date()
        known = purchased + timedelta(days=rng.randint(1, 3))
        if kind == "barred":
            purchased = purchased.replace(year=purchased.year - 4)
            known = known.replace(year=known.year - 4)
        day = local(at).strftime("%Y%m%d")
        record: dict[str, Any] = {
            "complaint_id": f"3101160000000{day}{n + 1:04d}",
            "revision": 1,
            "status": "submitted",
            "registered_at": at.isoformat(),
            "updated_at": at.isoformat(),
            "channel": rng.choice(["web", "app", "mini_program", "hotline"]),
            "odr_opt_in": kind != "opt_out",
            "consumer": {
                "name": rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, rng.randint(1, 2))),
                "phone": _phone(rng),
            },
            "respondent": respondent,
            "transaction": {
                "order_no": f"ORD{rng.randint(10**9, 10**10 - 1)}",
                "item_name": item,
                "amount": amount,
                "quantity": 1,
                "purchased_on": purchased.isoformat(),
                "harm_known_on": known.isoformat(),
                "online": True,
            },
            "category": category,
            "description": description,
            "demand_type": demand_type,
            "demand": demand,
            "claimed_amount": amount,
        }
        if kind == "elsewhere":
            record["handled_elsewhere"] = "金山区消费者权益保护委员会已受理调解"
        out.append(record)
    return out
