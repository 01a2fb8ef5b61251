"""Latency and query count of the portal's pages on the seeded benchmark area, in-process.

Each page is requested through Django's test client (middleware, view, template,
database: everything but the network and the WSGI server) as the user it is for: the
tier dashboards as each tier's secretary, the queues as a dispatcher and a caseworker,
the case page as the community's secretary, the public form as a resident (a real, valid
submission with its CSRF token: it creates a case), the API case list with a token.
"""

from __future__ import annotations

import statistics
import time
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.db import connection
from django.http import HttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.authtoken.models import Token

from cases.models import Case, Category
from communities.models import Role, Unit
from benchmarks.seed import username


@dataclass
class Target:
    """One page: how to request it once (``prepare`` runs untimed before each request)."""

    name: str
    request: Callable[[], HttpResponse]
    prepare: Callable[[], None] = lambda: None


@dataclass
class Result:
    name: str
    status: int
    queries: int
    times: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)  # this process's CPU time (ms): not the database's, nor waits
    sql: list[tuple[float, str]] = field(default_factory=list)  # (ms, statement) of the counted request

    def slowest(self, count: int) -> list[tuple[float, str]]:
        return sorted(self.sql, key=lambda item: -item[0])[:count]

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def p95(self) -> float:
        ordered = sorted(self.times)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]

    def as_dict(self) -> dict:
        return {"page": self.name, "status": self.status, "queries": self.queries,
                "median_ms": round(self.median, 2), "p95_ms": round(self.p95, 2),
                "median_cpu_ms": round(statistics.median(self.cpu), 2), "runs": len(self.times)}


def logged_in(user_name: str) -> Client:
    client = Client()
    client.force_login(get_user_model().objects.get(username=user_name))
    return client


def get(client: Client, url: str, **headers) -> Callable[[], HttpResponse]:
    return lambda: client.get(url, headers=headers)


def targets(area: Unit, *, dashboards_only: bool = False) -> list[Target]:
    street = area.children.order_by("sort_order", "pk").first()
    community = street.children.order_by("sort_order", "pk").first()
    found = [
        Target(f"{label} dashboard", get(logged_in(username(unit, Role.SECRETARY)), _dashboard(unit)))
        for label, unit in [("工委", area), ("街道", street), ("社区", community)]
    ]
    if dashboards_only:
        return found
    queue = reverse("cases:queue")
    found += [
        Target("case queue (街道, open)", get(logged_in(username(street, Role.DISPATCHER)), f"{queue}?queue=unit")),
        Target("case queue (社区, overdue)",
               get(logged_in(username(community, Role.CASEWORKER)), f"{queue}?queue=overdue")),
    ]
    searcher = logged_in(username(area, Role.DISPATCHER))
    found += [
        Target(f"search {label} (工委)", get(searcher, f"{queue}?{urlencode({'queue': 'all', 'q': term})}"))
        for label, term in SEARCHES
    ]
    case = Case.objects.filter(unit_path__startswith=community.path).order_by("-received_at").first()
    if case is not None:
        found.append(Target("case page", get(logged_in(username(community, Role.SECRETARY)), case.get_absolute_url())))
    found.append(ReportForm(community).target())
    found.append(Target("API case list", get(Client(), reverse("api:case-list"), Authorization=_token(area))))
    return found


# The 工委 dispatcher's search box over all cases: a term with hits (in titles and descriptions;
# 1.6 % of the cases), a building's name (a few hundred cases at 1 M), one without, and a
# two-character one (too short for a trigram index).
SEARCHES = [("hits", "暖气漏水"), ("few hits", "迎风第3社区453号楼"), ("no hits", "玻璃幕墙"), ("2 chars", "暖气")]


def _dashboard(unit: Unit) -> str:
    return reverse("dashboards:unit", kwargs={"code": unit.code})


def _token(area: Unit) -> str:
    """The 工委 secretary's API token (the widest scope: the whole area)."""
    user = get_user_model().objects.get(username=username(area, Role.SECRETARY))
    return f"Token {Token.objects.get_or_create(user=user)[0].key}"


class ReportForm:
    """A resident fills in /report/ from a community's poster and sends it: one new case per request."""

    def __init__(self, community: Unit) -> None:
        self.community = community
        self.client = Client(enforce_csrf_checks=True)
        self.category = Category.objects.filter(active=True, children__isnull=True).order_by("sort_order", "pk").first()
        self.url = reverse("cases_public:report")
        self.sent = 0

    def target(self) -> Target:
        return Target("public form POST", self.send, self.open)

    def open(self) -> None:
        """GET the form first, as a browser does: it sets the CSRF cookie the POST must carry."""
        self.client.get(self.url, {"unit": self.community.code})

    def send(self) -> HttpResponse:
        self.sent += 1
        return self.client.post(self.url, self.data(), headers={"X-CSRFToken": self.client.cookies["csrftoken"].value})

    def data(self) -> dict:
        return {
            "category": str(self.category.pk), "description": "楼道里的灯坏了，晚上看不见路。",
            "street": str(self.community.parent_id), "community": str(self.community.pk), "building": "",
            "address": "3号楼2单元", "unit": "", "submission": uuid.uuid4().hex, "resident_name": "杨女士",
            "resident_phone": f"139{self.sent % 10**8:08d}", "consent": "on", "website": "",
        }


def measure(found: list[Target], *, runs: int, warmup: int) -> list[Result]:
    """Round robin over the pages, so a burst of load on the machine hits them all alike."""
    results = []
    for target in found:
        for _ in range(warmup):
            target.prepare()
            target.request()
        target.prepare()
        with CaptureQueriesContext(connection) as captured:
            status = target.request().status_code
        sql = [(float(query["time"]) * 1000, query["sql"]) for query in captured.captured_queries]
        results.append(Result(target.name, status, len(captured), sql=sql))  # counted before the next request
    for _ in range(runs):
        for target, result in zip(found, results):
            target.prepare()
            started, cpu = time.perf_counter(), time.process_time()
            target.request()
            result.times.append((time.perf_counter() - started) * 1000)
            result.cpu.append((time.process_time() - cpu) * 1000)
    return results


def table(results: list[Result]) -> list[str]:
    lines = [f"{pad('page', 28)} {'status':>6} {'queries':>7} {'median ms':>10} {'p95 ms':>8} {'cpu ms':>7}"]
    lines += [f"{pad(r.name, 28)} {r.status:>6} {r.queries:>7} {r.median:>10.1f} {r.p95:>8.1f} "
              f"{statistics.median(r.cpu):>7.1f}" for r in results]
    return lines


def pad(text: str, width: int) -> str:
    """Left-aligned in ``width`` terminal columns: a Chinese character takes two."""
    columns = sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)
    return text + " " * max(0, width - columns)
