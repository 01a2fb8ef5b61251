"""The dashboard's tables as the page, the .xlsx export and the printed report show them.

One place turns ``selectors.Dashboard`` into rows with their labels, percentages and
queue links, so what is exported is what is on the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from cases import rates
from cases.rates import Score
from communities.models import Unit

from ..formats import DASH, percent
from .. import links
from .selectors import Dashboard, WorkCounts

COMPLETION_HELP = _(
    "Completion rate: of the cases counted for the month (received in it, not excluded or merged),"
    " those resolved or closed, as of now (as of the freeze for a frozen month). Not part of the composite score."
)


def points(value: Decimal | None) -> str:
    return DASH if value is None else f"{value.quantize(Decimal('0.01'))}"


def short_name(name: str) -> str:
    """A caller's family name only (杨**), as the case exports show it."""
    return f"{name[0]}{'*' * (len(name) - 1)}" if name else ""


def with_callers(cases: list) -> list:
    for case in cases:
        case.caller = short_name(case.resident_name)
    return cases


def dashboard_url(unit: Unit, month: date | None = None) -> str:
    url = reverse("dashboards:unit", kwargs={"code": unit.code})
    return f"{url}?month={rates.month_label(month)}" if month else url


@dataclass
class ScoreRow:
    """One unit's line of the ranking table."""

    unit: Unit
    score: Score
    work: WorkCounts
    url: str  # the unit's own dashboard for the same month
    own: bool = False

    @cached_property
    def work_urls(self) -> dict[str, str]:
        return work_links(self.unit)

    @property
    def rank(self) -> str:
        return "" if self.score.rank is None else str(self.score.rank)

    @property
    def response(self) -> str:
        return percent(self.score.response_rate)

    @property
    def resolution(self) -> str:
        return percent(self.score.resolution_rate)

    @property
    def satisfaction(self) -> str:
        return percent(self.score.satisfaction_rate)

    @property
    def composite(self) -> str:
        return points(self.score.composite)

    @property
    def completion(self) -> str:
        return percent(self.score.completion_rate)


@dataclass
class Tile:
    """A headline number and the queue that lists what it counts."""

    key: str
    label: str
    count: int
    url: str


WORK_TILES = [
    ("open", _("Open"), "unit"),
    ("overdue", _("Overdue"), "overdue"),
    ("supervised", _("Under supervision"), "supervised"),
    ("to_dispatch", _("To dispatch"), "to_dispatch"),
    ("waiting_acceptance", _("Waiting to be accepted"), "waiting_acceptance"),
    ("awaiting_return_visit", _("Awaiting return visit"), "awaiting_return_visit"),
]


def work_tiles(unit: Unit, counts: WorkCounts) -> list[Tile]:
    return [
        Tile(key, str(label), getattr(counts, key), links.queue_url(name, place=unit.pk))
        for key, label, name in WORK_TILES
    ]


def work_links(unit: Unit) -> dict[str, str]:
    return {key: links.queue_url(name, place=unit.pk) for key, _label, name in WORK_TILES}


def ranking_rows(board: Dashboard) -> list[ScoreRow]:
    """The children, best composite first, those without a composite last (rates.ranking's order)."""
    return [
        ScoreRow(score.unit, score, board.work[score.unit.pk], dashboard_url(score.unit, board.month))
        for score in board.ranking
    ]


def own_row(board: Dashboard) -> ScoreRow:
    return ScoreRow(board.unit, board.score, board.work[board.unit.pk], dashboard_url(board.unit, board.month), own=True)


@dataclass
class CountLink:
    label: str
    count: int
    url: str


def day_rows(board: Dashboard) -> list[CountLink]:
    place = board.unit.pk
    return [
        CountLink(item.day.strftime("%m-%d"), item.count, links.received_url(place, item.day, item.day))
        for item in board.volume.by_day
    ]


def month_range(board: Dashboard) -> tuple[date, date]:
    return board.month, rates.next_month(board.month) - timedelta(days=1)


def category_rows(board: Dashboard) -> list[CountLink]:
    first, last = month_range(board)
    place = board.unit.pk
    return [
        CountLink(item.name, item.count, links.received_url(place, first, last, category=item.category_id))
        for item in board.volume.by_category
    ]


def volume_url(board: Dashboard) -> str:
    first, last = month_range(board)
    return links.received_url(board.unit.pk, first, last)


@dataclass
class HotspotRow:
    place: str
    building: str
    category: str
    count: int
    url: str


def hotspot_rows(board: Dashboard) -> list[HotspotRow]:
    first, last = month_range(board)
    return [
        HotspotRow(
            item.place, item.building, item.category, item.count,
            # The place is where the cases happened; they may be handled above it (the street's desk).
            links.received_url(
                item.place_id, first, last, category=item.category_id, search=item.building, located=True
            ),
        )
        for item in board.hotspots
    ]


def building_rows(board: Dashboard) -> list[CountLink]:
    if board.worker is None:
        return []
    first, last = month_range(board)
    return [
        CountLink(item.name, item.count, links.received_url(board.unit.pk, first, last, search=item.name))
        for item in board.worker.busiest_buildings
    ]


@dataclass
class TrendRow:
    month: str
    frozen: bool
    counted: int
    response: str
    resolution: str
    satisfaction: str
    composite: str
    completion: str


def trend_rows(board: Dashboard) -> list[TrendRow]:
    return [
        TrendRow(
            rates.month_label(score.month), score.month in board.trend.frozen, score.dispatched,
            percent(score.response_rate), percent(score.resolution_rate),
            percent(score.satisfaction_rate), points(score.composite), percent(score.completion_rate),
        )
        for score in board.trend.unit
    ]


def _number(value: Decimal | None, scale: int = 100) -> float | None:
    return None if value is None else float(round(value * scale, 1))


def chart_data(board: Dashboard) -> dict:
    """What static/js/dashboards.js draws: plain numbers and translated labels, no markup."""
    children = {child.pk: child for child in board.children}
    return {
        "months": [rates.month_label(month) for month in board.trend.months],
        "labels": {
            "counted": str(_("Cases counted")),
            "response": str(_("Response rate")),
            "resolution": str(_("Resolution rate")),
            "satisfaction": str(_("Satisfaction rate")),
            "composite": str(_("Composite score")),
            "received": str(_("Cases received")),
        },
        "counted": [score.dispatched for score in board.trend.unit],
        "response": [_number(score.response_rate) for score in board.trend.unit],
        "resolution": [_number(score.resolution_rate) for score in board.trend.unit],
        "satisfaction": [_number(score.satisfaction_rate) for score in board.trend.unit],
        "composite": [_number(score.composite, 1) for score in board.trend.unit],
        "children": [
            {"name": children[pk].name, "composite": [_number(score.composite, 1) for score in scores]}
            for pk, scores in board.trend.children.items()
        ],
        "days": [item.day.strftime("%m-%d") for item in board.volume.by_day],
        "received": [item.count for item in board.volume.by_day],
    }


def tables(board: Dashboard) -> dict:
    """Every table of the page, by name (the template, the export and the report read these)."""
    unit = board.unit
    with_callers(board.oldest_overdue)
    if board.worker is not None:
        with_callers(board.worker.my_queue)
        with_callers(board.worker.due_today)
    return {
        "own": own_row(board),
        "ranking": ranking_rows(board),
        "tiles": work_tiles(unit, board.work[unit.pk]),
        "days": day_rows(board),
        "categories": category_rows(board),
        "volume_url": volume_url(board),
        "trend_rows": trend_rows(board),
        "completion_help": COMPLETION_HELP,
        "hotspots": hotspot_rows(board),
        "buildings": building_rows(board),
        "chart_data": chart_data(board),
        "overdue_url": links.queue_url("overdue", place=unit.pk),
        "due_url": links.queue_url("unit", place=unit.pk),
        "mine_url": links.queue_url("mine"),
    }
