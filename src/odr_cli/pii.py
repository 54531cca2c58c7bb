"""Masking of personal information (consumer name, phone, e-mail, address, ID number).

What an operator sees of a record (quarantine, explain) goes through these; handlers log no personal fields at
all, and the clear values live only in the case table. Free text that leaves for good (the case library) is
scrubbed instead (:func:`scrub_text`): every mention of a person, number, address or enterprise replaced by a tag.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import astuple, dataclass
from typing import Any

import phonenumbers

from odr_adapter.models.record import Complaint

PII_FIELDS = frozenset({"name", "phone", "email", "address", "id_number"})


def mask_name(value: str) -> str:
    """Keep the surname of a name of two or more characters; hide a one-character name entirely."""
    if len(value) < 2:
        return "*" * len(value)
    return value[:1] + "*" * (len(value) - 1)


def mask_phone(value: str) -> str:
    """The national number masked, whatever form it came in: ``+86 137 6123 4567`` → ``137****4567`` (the
    country code is not the number's start), ``021-57951234`` → ``021****1234`` (a landline keeps its trunk 0)."""
    digits = [c for c in value if c.isdigit()]
    try:
        number = phonenumbers.parse(value, "CN")
    except phonenumbers.NumberParseException:
        number = None
    if number is not None and phonenumbers.is_valid_number(number):  # else masked as typed: nothing to go by
        national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
        digits = [c for c in national if c.isdigit()]
    if len(digits) < 7:
        return "*" * len(value)
    return "".join(digits[:3]) + "****" + "".join(digits[-4:])


def mask_email(value: str) -> str:
    user, _, domain = value.partition("@")
    return (user[:1] + "***@" + domain) if domain else "***"


def mask_text(value: str) -> str:
    return value[:3] + "***" if len(value) > 3 else "***"


_MASKERS = {
    "name": mask_name,
    "phone": mask_phone,
    "email": mask_email,
    "address": mask_text,
    "id_number": lambda v: v[:2] + "*" * 12 + v[-2:] if len(v) >= 6 else "*" * len(v),
}


def mask_consumer(consumer: dict[str, Any]) -> dict[str, Any]:
    def one(key: str, value: Any) -> Any:
        if key not in _MASKERS or value is None:
            return value
        # A wrongly typed value (what invalid records carry) is hidden whole rather than shown.
        return _MASKERS[key](value) if isinstance(value, str) else "***"

    return {k: one(k, v) for k, v in consumer.items()}


_FREE_TEXT = ("description", "demand", "handled_elsewhere")
_CONTRACT_FIELDS = frozenset(Complaint.model_fields)
_PHONE_OR_ID = re.compile(r"(?<![0-9A-Za-z])(1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8}|[0-9]{17}[0-9Xx])(?![0-9A-Za-z])")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+")


def masked_consumer(consumer: Any) -> Any:
    """Every field of the consumer is personal: known ones masked their way, anything else hidden whole."""
    if consumer is None:
        return None
    if not isinstance(consumer, dict):
        return "***"
    masked = mask_consumer(consumer)
    known = {"name", "phone", "email", "address", "id_number"}
    return {k: (v if k in known else "***") for k, v in masked.items()}


def _phones(text: str) -> str:
    """Phone numbers in any form phonenumbers finds (``+86 137 6123 4567``, ``+8613761234567``), masked."""
    out, end = [], 0
    for match in phonenumbers.PhoneNumberMatcher(text, "CN"):
        out += [text[end : match.start], mask_phone(match.raw_string)[:3] + "****"]  # as free text hides them
        end = match.end
    return "".join(out) + text[end:]


def _scrub(value: Any) -> Any:
    """Phone numbers, ID numbers and e-mail addresses a consumer typed into free text, hidden."""
    if isinstance(value, str):
        return _EMAIL.sub("***@***", _PHONE_OR_ID.sub(lambda m: m[0][:3] + "****", _phones(value)))
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items()}
    return value


def _printable(value: Any) -> Any:
    """Lone surrogates (a cut emoji a record may carry) as U+FFFD, so the record can be printed and saved."""
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    if isinstance(value, list):
        return [_printable(v) for v in value]
    if isinstance(value, dict):
        return {_printable(k): _printable(v) for k, v in value.items()}
    return value


def masked_raw(raw: Any) -> Any:
    """A raw (possibly invalid) record safe to print: consumer masked, free text and unknown fields scrubbed."""
    if not isinstance(raw, dict):
        return f"(a JSON {type(raw).__name__}, not an object: not shown, it may hold personal data)"
    raw = _printable(raw)
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key == "consumer":
            out[key] = masked_consumer(value)
        elif key in _FREE_TEXT or key not in _CONTRACT_FIELDS:
            out[key] = _scrub(value)
        else:
            out[key] = value
    return out


# Free text scrubbed for export (the case library): nothing masked half-way, every mention replaced by a tag.

_FOLD = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F) if chr(c - 0xFEE0).isalnum() or chr(c - 0xFEE0) in "+-@._"}
_FOLD[0x3000] = ord(" ")

# Common single and compound surnames: a name found by its shape (王先生, 联系人李娜) must start with one.
_SURNAMES = (
    "欧阳|司马|上官|诸葛|东方|皇甫|尉迟|公孙|慕容|长孙|宇文|司徒|夏侯|令狐|"
    "[王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
    "姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施"
    "文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛"
    "曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席"
    "卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝]"
)
_HAN = r"[\u4e00-\u9fff]"
_HONORIFIC = r"(先生|女士|小姐|太太|阿姨|大爷|大妈|师傅)"
_NAME_WITH_HONORIFIC = re.compile(rf"(?:{_SURNAMES}){_HAN}{{0,2}}?{_HONORIFIC}")
_NAME_AFTER_ROLE = re.compile(
    rf"(消费者|投诉人|申请人|联系人|当事人|收件人|收货人|购买人|姓名|本人|我叫|名叫)([:：\s]*)(?:{_SURNAMES}){_HAN}{{1,2}}"
    r"(?=[,，。;；:：、)）(（\s]|称|说|表示|反映|于|在|的|电话|手机|联系|$)"
)
_EMAIL_ADDRESS = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_RESIDENT_ID = re.compile(r"(?<![0-9A-Za-z])[0-9]{6}[ -]?[0-9]{8}[ -]?[0-9]{3}[0-9Xx](?![0-9A-Za-z])")
_COUNTRY = r"(?:(?:\+|00)\s*86[\s-]*)"
_AFTER_DIGITS = r"(?<![0-9+])(?<![0-9][\s-])"  # not the middle of a longer run (6222 0212 ...)
_MOBILE = re.compile(rf"{_AFTER_DIGITS}[(（]?(?:{_COUNTRY}|86[\s-]+)?[)）]?1[3-9][0-9](?:[\s-]*[0-9]){{8}}(?![0-9])")
_LANDLINE = re.compile(
    rf"{_AFTER_DIGITS}[(（]?(?:{_COUNTRY}0?|0)[1-9][0-9]{{1,2}}[)）]?[\s-]*[0-9]{{3,4}}[\s-]?[0-9]{{4}}"
    r"(?:\s*(?:转|ext\.?|-)\s*[0-9]{1,6})?(?![0-9])"
)
_SERVICE_LINE = re.compile(rf"{_AFTER_DIGITS}[48]00[\s-]?[0-9]{{3}}[\s-]?[0-9]{{4}}(?![0-9])")
_SPACED_DIGITS = re.compile(r"(?<![0-9])[0-9]+(?: [0-9]+)+(?![0-9])")
_CODE = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?(?![A-Za-z0-9_-])")
_DATE = re.compile(r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}")
_UNIT = r"[0-9]+\s*(?:号楼|号院|号|支弄|弄|室|栋|幢|座|单元|楼|层|户)"
# A road or compound name: two to six characters (not a verb or preposition before it: 住在人民路 keeps 住在),
# and not a word that merely ends like one (电路, 线路, 思路).
_PLACE = (
    rf"(?:(?![在住于到至往寄送从的是址为和与]){_HAN}){{2,6}}?(?<![电线思销门套网走出回来去一迷弯])"
    r"(?:路|街|大道|巷|胡同|公路|小区|花园|新村|公寓|大厦|家园|苑)"
)
_PLACE_NAME = re.compile(_PLACE)
_ADDRESS = re.compile(
    rf"{_PLACE}(?:\s*{_UNIT})*"  # a road or compound, with its numbers
    rf"|{_UNIT}(?:\s*{_UNIT})+"  # 4号502室, 3栋2单元1201室
    r"|[0-9]+\s*(?:室|栋|幢|单元|弄|号楼)"  # one unambiguous unit (a lone 5号 may be a day of the month)
)
_DIVISIONS = re.compile(rf"^(?:{_HAN}{{2,}}?(?:省|自治区|市|(?<!小)区|县|镇|乡|街道))+")
_REGION = re.compile(r"^(中国)?(上海|北京|天津|重庆|浙江|江苏|广东)(市|省)?")
_COMPANY_FORM = re.compile(r"((股份)?有限(责任)?公司|集团|公司|官方旗舰店|旗舰店|专营店|专卖店|店)$")
_REPEATED_TAG = re.compile(r"(\[[^\]\[]+\])(?:\s*\1)+")  # [地址][地址] from a known part and its rest
_SURNAME_AND_GIVEN = re.compile(rf"({_SURNAMES})({_HAN}{{1,3}})")


@dataclass(frozen=True)
class Mentions:
    """What one case's free text must not mention: its own people, organisations, numbers and places."""

    names: tuple[str, ...] = ()
    organisations: tuple[str, ...] = ()
    numbers: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    addresses: tuple[str, ...] = ()

    def __add__(self, other: Mentions) -> Mentions:
        return Mentions(*(tuple(dict.fromkeys(a + b)) for a, b in zip(astuple(self), astuple(other), strict=True)))


def fold_width(text: str) -> str:
    """Full-width digits, Latin letters, ``+-@._`` and the ideographic space as ASCII (Chinese punctuation kept)."""
    return text.translate(_FOLD)


def _strings(*values: Any) -> tuple[str, ...]:
    return tuple(fold_width(v).strip() for v in values if isinstance(v, str) and v.strip())


def address_parts(address: str) -> tuple[str, ...]:
    """An address, what follows its administrative divisions, and the roads and compounds it names."""
    folded = fold_width(address).strip()
    street = _DIVISIONS.sub("", folded)
    places = (m[0] for m in _PLACE_NAME.finditer(street))
    return tuple(dict.fromkeys(p for p in (folded, street, *places) if len(p) >= 2))


def organisation_names(*names: str | None) -> tuple[str, ...]:
    """Each name and its core, without the region before it and the company form after it (e.g. 金枫云购)."""
    out: list[str] = []
    for name in _strings(*names):
        core = _COMPANY_FORM.sub("", _REGION.sub("", name))
        out += [name, core] if len(core) >= 2 else [name]
    return tuple(dict.fromkeys(out))


def record_mentions(record: dict[str, Any]) -> Mentions:
    """The personal and identifying values of a 12315 record: the consumer, the respondent, the order number."""

    def part(name: str) -> dict[str, Any]:
        value = record.get(name)
        return value if isinstance(value, dict) else {}

    consumer, respondent, transaction = part("consumer"), part("respondent"), part("transaction")
    addresses = _strings(consumer.get("address"), respondent.get("address"))
    return Mentions(
        names=_strings(consumer.get("name")),
        organisations=organisation_names(respondent.get("name"), respondent.get("shop_name"))
        + _strings(respondent.get("platform")),
        numbers=_strings(consumer.get("phone"), consumer.get("id_number"), transaction.get("order_no")),
        emails=_strings(consumer.get("email")),
        addresses=tuple(p for a in addresses for p in address_parts(a)),
    )


def _literal(value: str) -> str:
    """A pattern for a known value, whatever spaces or dashes are put between its characters (138 1234-5678)."""
    return r"[\s-]*".join(re.escape(c) for c in value if not c.isspace() and c != "-")


def _number(value: str) -> str:
    """A known phone, ID or order number, with or without the country code."""
    digits = re.sub(r"^(\+|00)86|[^0-9A-Za-z]", "", value)
    return rf"(?:{_COUNTRY}|86[\s-]*)?{_literal(digits)}" if digits else ""


def _replace(text: str, values: tuple[str, ...], tag: str, pattern: Callable[[str], str] = _literal) -> str:
    patterns = [p for p in (pattern(v) for v in sorted(values, key=len, reverse=True)) if p]
    return re.sub("|".join(patterns), tag, text, flags=re.IGNORECASE) if patterns else text


def _long_code(match: re.Match[str]) -> str:
    token = match[0]
    return token if _DATE.fullmatch(token) or sum(c.isdigit() for c in token) < 6 else "[编号]"


def _people(text: str, names: tuple[str, ...]) -> str:
    """Each known name, its given name (two characters or more) and its surname with an honorific (林女士)."""
    split = [m for m in (_SURNAME_AND_GIVEN.fullmatch(n) for n in names) if m]
    text = _replace(text, (*names, *(m[2] for m in split if len(m[2]) >= 2)), "[姓名]")
    for surname in dict.fromkeys(m[1] for m in split):
        text = re.sub(rf"{surname}{_HONORIFIC}", r"某\1", text)
    return text


def scrub_text(text: str, mentions: Mentions) -> str:
    """Free text without personal data: the case's own known values first, then every shape that looks like one.

    What is removed becomes a tag ([姓名], [企业], [号码], [电话], [证件号], [编号], [邮箱], [地址]); a name
    with an honorific becomes 某先生, 某女士 ... Full-width digits and letters come out half-width.
    """
    out = fold_width(text)
    out = _replace(out, mentions.emails, "[邮箱]")
    out = _replace(out, mentions.numbers, "[号码]", _number)
    out = _replace(out, mentions.addresses, "[地址]")
    out = _replace(out, mentions.organisations, "[企业]")
    out = _people(out, mentions.names)
    out = _EMAIL_ADDRESS.sub("[邮箱]", out)
    out = _RESIDENT_ID.sub("[证件号]", out)
    for phone in (_MOBILE, _LANDLINE, _SERVICE_LINE):
        out = phone.sub("[电话]", out)
    out = _SPACED_DIGITS.sub(lambda m: "[编号]" if sum(c.isdigit() for c in m[0]) >= 7 else m[0], out)
    out = _CODE.sub(_long_code, out)
    out = _ADDRESS.sub("[地址]", out)
    out = _NAME_WITH_HONORIFIC.sub(lambda m: "某" + m[1], out)
    out = _NAME_AFTER_ROLE.sub(lambda m: m[1] + m[2] + "[姓名]", out)
    return _REPEATED_TAG.sub(r"\1", out)
