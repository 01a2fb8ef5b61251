"""What Open311 clients see of categories and cases: the spec's field names, public data only."""

from __future__ import annotations

import re
from datetime import datetime

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.models import Case, Category

S = Case.Status
SPEC_URL = "http://wiki.open311.org/GeoReport_v2"
DESCRIPTION_LIMIT = 4000  # the spec's limit on description texts

# Personal data a resident may have typed into the text, masked when a deployment publishes it
# (settings.OPEN311_PUBLIC_DESCRIPTION; tests/api/test_open311_privacy.py lists the forms caught).
# A digit as people write one: ASCII, full-width, or a Chinese numeral as a number is read out.
_DIGIT = "[0-9０-９零〇一二三四五六七八九幺两壹贰叁肆伍陆柒捌玖]"
# Between the digits of one number: spaces, dashes of every width, dots, slashes, underscores, brackets.
_SEP = r"[\s\-‐‑‒–—―－_.．/／\\·・()（）]"
# Phone, ID and bank numbers: seven digits or more, however they are spaced.
NUMBER_RUN = re.compile(rf"[(（]?{_DIGIT}(?:{_SEP}*{_DIGIT}){{6,}}(?:{_SEP}*[Xx×])?")
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+(?:@|＠)[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
# Door numbers: "501室", "1102房", the number after a stairwell ("5单元501"), "41-5-501".
ROOM = re.compile(
    rf"{_DIGIT}{{1,5}}\s*(?:室|房间|号房|房|户)"
    rf"|(?<=单元){_SEP}*{_DIGIT}{{2,5}}(?:\s*号)?"
    rf"|(?<![0-9]){_DIGIT}{{1,3}}\s*[-－—]\s*{_DIGIT}{{1,2}}\s*[-－—]\s*{_DIGIT}{{2,5}}(?![0-9])"
)
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵钱严覃武戴莫孔汤"
)
_HAN = "[\u4e00-\u9fff]"
# A given name of one or two characters; the second is not a word that usually follows a name.
_GIVEN = rf"{_HAN}(?:(?![家说的在把又也和都就还去来是了被让给跟与不]){_HAN})?"
# Other people named in the text: a surname with a form of address ("王先生", "李建国师傅", "张某"),
# a name after who the person is ("邻居赵德华", "物业经理：孙丽"; what they are stays), or "老杜" /
# "小王" before what they did.
NAMED = re.compile(
    rf"[{_SURNAMES}]{_HAN}{{0,2}}?(?:先生|女士|小姐|大爷|大妈|大娘|大叔|大哥|大姐|阿姨|奶奶|爷爷|师傅|老师|同志|某某|某)"
    rf"|(?P<who>(?:邻居|楼上|楼下|隔壁|对门|对面|业主|住户|房东|租户|房客|保安|保洁|物业|经理|主任|书记|家属|儿子|女儿"
    rf"|老伴|丈夫|妻子|老公|老婆|司机|师傅|工人)(?:的)?[:：\s]*)[{_SURNAMES}]{_GIVEN}"
    rf"|(?:老|小)[{_SURNAMES}](?=$|[^\u4e00-\u9fff]|说|家|反映|称|讲|的|在|占|把|又|总|经常|私自|一直|还)"
)
MASK = "****"
STATUS_NOTES = {
    S.SUBMITTED: _("Received; waiting to be dispatched to the unit that handles it."),
    S.DISPATCHED: _("Dispatched to %(unit)s."),
    S.ACCEPTED: _("Accepted by %(unit)s."),
    S.CONTACTED: _("%(unit)s has contacted the person who reported it."),
    S.IN_PROGRESS: _("Being handled by %(unit)s."),
    S.RETURNED: _("Being dispatched again."),
    S.RESOLVED: _("Resolved: %(result)s"),
    S.CLOSED: _("Closed: %(result)s"),
}
# Without the handler's words, where a deployment keeps free text out of the feed.
PLAIN_NOTES = {
    S.RESOLVED: _("Resolved."),
    S.CLOSED: _("Closed."),
    S.MERGED: _("Handled together with request %(lead)s about the same problem."),
}


def w3c(moment: datetime | None) -> str | None:
    """The spec's date-time format (ISO 8601 with the offset), in the portal's time zone."""
    if moment is None:
        return None
    return timezone.localtime(moment).isoformat(timespec="seconds")


def public_text(text: str, *, names: tuple[str, ...] = ()) -> str:
    """``text`` without phone, ID or door numbers, e-mail addresses, the given names or other
    people's names as they are usually written."""
    text = text or ""
    for name in names:
        if len(name.strip()) >= 2:
            text = text.replace(name.strip(), MASK)
    for rule in (EMAIL, NUMBER_RUN, ROOM):
        text = rule.sub(MASK, text)
    text = NAMED.sub(lambda match: (match.group("who") or "") + MASK, text)
    return text[:DESCRIPTION_LIMIT]


def publishes_text() -> bool:
    return settings.OPEN311_PUBLIC_DESCRIPTION


def services(categories: QuerySet[Category]) -> list[Category]:
    """The categories a request can be filed under: active ones without active children."""
    rows = list(categories.filter(active=True).select_related("parent").order_by("sort_order", "code"))
    parents = {row.parent_id for row in rows if row.parent_id}
    return [row for row in rows if row.pk not in parents and (row.parent is None or row.parent.active)]


def is_service(category: Category) -> bool:
    parent_active = category.parent is None or category.parent.active
    return category.active and parent_active and not category.children.filter(active=True).exists()


def service(category: Category) -> dict:
    return {
        "service_code": category.code,
        "service_name": category.public_name,
        "description": category.name,
        "metadata": False,  # the one attribute (kind) is optional
        "type": "realtime",
        "keywords": ", ".join(dict.fromkeys([category.name, category.public_name])),
        "group": category.parent.public_name if category.parent_id else category.public_name,
    }


def definition(category: Category) -> dict:
    return {
        "service_code": category.code,
        "attributes": [
            {
                "variable": True,
                "code": "kind",
                "datatype": "singlevaluelist",
                "required": False,
                "datatype_description": str(_("Leave empty for a request for help.")),
                "order": 1,
                "description": str(_("What kind of request is it?")),
                "values": [{"key": key, "name": str(label)} for key, label in Case.Kind.choices],
            }
        ],
    }


def open_or_closed(case: Case) -> str:
    return "closed" if case.status in Case.FINISHED else "open"


def status_notes(case: Case) -> str:
    with_text = publishes_text()
    notes = STATUS_NOTES if with_text else {**STATUS_NOTES, **PLAIN_NOTES}
    values = {
        "unit": case.unit.name,
        "result": public_text(case.result, names=(case.resident_name,)) if with_text and case.result else "",
        "lead": case.merged_into.public_id if case.merged_into_id else "",
    }
    return str(notes[case.status] % values).strip()


def address(case: Case) -> str:
    """The building and the place, most specific first; never the free-text address (a door number)."""
    parts = [case.building.name] if case.building_id else []
    return ", ".join([*parts, case.location_unit.name])


def request(case: Case) -> dict:
    finished = case.closed_at or case.resolved_at if case.status in Case.FINISHED else None
    return {
        "service_request_id": case.public_id,
        "status": open_or_closed(case),
        "status_notes": status_notes(case),
        "service_name": case.category.public_name,
        "service_code": case.category.code,
        "description": public_text(case.description, names=(case.resident_name,)) if publishes_text() else None,
        "agency_responsible": case.unit.name,
        "service_notice": None,
        "requested_datetime": w3c(case.received_at),
        "updated_datetime": w3c(finished or case.updated_at),
        "expected_datetime": w3c(case.resolve_due_at),
        "address": address(case),
        "address_id": case.location_unit.code,
        "zipcode": None,
        "lat": None,
        "long": None,
        "media_url": None,
    }


def public_requests() -> QuerySet[Case]:
    """Every case Open311 may show: reports of wrongdoing (举报) stay confidential."""
    return (
        Case.objects.exclude(kind=Case.Kind.REPORT)
        .select_related("category", "unit", "location_unit", "building", "merged_into")
        .order_by("-received_at", "-pk")
    )
