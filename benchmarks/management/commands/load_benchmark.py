"""``manage.py load_benchmark``: requests/s of the public form under concurrent load, beside a bare view.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_bench_100k REDIS_URL=redis://127.0.0.1:6379/0 \
        manage.py load_benchmark --json load.json

Starts gunicorn on a free local port with ``benchmarks.loadtest.settings``, loads the bare
view, POST /report/ and the accept-only floor in turn with wrk (``apt-get install wrk``),
prints the rates, the ratios to the bare view and each worker's peak memory, and stops gunicorn. Every POST is a real
submission: it creates a case in the benchmark area (seed_benchmark --reset removes them).

The same rounds load django-helpdesk's public submit (installed on demand into
test-artifacts/helpdesk-venv, its own database ``<ours>_helpdesk``; ``--no-helpdesk`` skips it), and
last the form is offered ``--latency-rate`` POSTs/s open loop for ``--latency-seconds`` for p50–p99.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from communities.models import Unit
from benchmarks import seed as benchmark
from benchmarks.loadtest import helpdesk, load


class Command(BaseCommand):
    help = ("Requests/s of the public form POST beside a bare Django view and django-helpdesk's submit under gunicorn "
            "and wrk; its latency at a fixed offered rate; worker peak memory.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workers", type=int, default=os.cpu_count() or 2,
                            help="gunicorn sync workers (default: one per CPU).")
        parser.add_argument("--connections", type=int, default=16, help="Concurrent connections (default 16).")
        parser.add_argument("--seconds", type=int, default=10, help="Length of each wrk run (default 10).")
        parser.add_argument("--rounds", type=int, default=2, help="Bare view then form, this many times (default 2).")
        parser.add_argument("--json", type=Path, default=None, help="Also write the figures to this JSON file.")
        parser.add_argument("--no-helpdesk", action="store_true",
                            help="Skip the comparison with django-helpdesk's public submit (installed on demand "
                                 "into test-artifacts/helpdesk-venv otherwise).")
        parser.add_argument("--latency-rate", type=float, default=100,
                            help="Requests/s offered to the form, open loop, for the latency figure (default 100).")
        parser.add_argument("--latency-seconds", type=float, default=30,
                            help="Length of the fixed-rate run (default 30; 0 skips it).")

    def handle(self, *args, **options) -> None:
        if min(options["workers"], options["connections"], options["seconds"], options["rounds"]) < 1:
            raise CommandError("--workers, --connections, --seconds and --rounds must be at least 1.")
        area = Unit.objects.filter(code=benchmark.AREA_CODE).first()
        if area is None:
            raise CommandError("No benchmark area here: run seed_benchmark first (same DATABASE_URL).")
        community = Unit.objects.filter(path__startswith=area.path, level=Unit.Level.COMMUNITY).order_by("path").first()
        self.stdout.write(f"gunicorn, {options['workers']} workers; wrk, {options['connections']} connections, "
                          f"{options['seconds']} s per run; load average {_load()}.")
        if not settings.REDIS_URL:
            self.stdout.write(self.style.WARNING(
                "REDIS_URL is not set: each worker has its own local-memory cache, unlike production."))
        if options["latency_rate"] <= 0 or options["latency_seconds"] < 0:
            raise CommandError("--latency-rate must be positive and --latency-seconds at least 0.")
        desk = None
        if not options["no_helpdesk"]:
            try:
                desk = load.prepare_helpdesk(Path(settings.BASE_DIR) / "test-artifacts", out=self.stdout.write)
            except helpdesk.HelpdeskUnavailable as error:
                raise CommandError(f"The comparison with django-helpdesk cannot be made: {error}\n"
                                   "(--no-helpdesk measures the rest without it.)") from None
        try:
            figures = load.run(community=community, workers=options["workers"], connections=options["connections"],
                               seconds=options["seconds"], rounds=options["rounds"], desk=desk,
                               latency_rate=options["latency_rate"], latency_seconds=options["latency_seconds"],
                               out=self.stdout.write)
        except load.LoadError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"bare view {figures.bare.rate:.1f} requests/s, public form POST {figures.form.rate:.1f} requests/s: "
            f"ratio {figures.ratio:.1%} ({figures.cases_created} cases created); accept-only POST (the form checked "
            f"and stored as one row, no case) {figures.floor.rate:.1f} requests/s: ratio {figures.floor_ratio:.1%}; "
            f"worker peak memory "
            f"{', '.join(f'{mb:.0f} MB' for mb in figures.worker_peak_mb)}; load average after {_load()}."
        )
        if figures.form.errors or figures.bare.errors or figures.floor.errors:
            self.stdout.write(self.style.WARNING(
                f"Errors: {figures.bare.errors} on the bare view, {figures.form.errors} on the form, "
                f"{figures.floor.errors} on the accept-only view."))
        if figures.helpdesk is not None:
            self.stdout.write(
                f"public form {figures.form.rate:.1f} requests/s = {figures.helpdesk_ratio:.2f} × django-helpdesk "
                f"{helpdesk.VERSION} public submit ({figures.helpdesk.rate:.1f} requests/s, "
                f"{figures.helpdesk_tickets} tickets created, {figures.helpdesk.errors} errors; workers' CPU "
                f"{figures.helpdesk.cpu:.1f} ms per ticket, {figures.form.cpu:.1f} ms per report); bar ≥ "
                f"{figures.HELPDESK_BAR:g}×: {'holds' if figures.helpdesk_ratio >= figures.HELPDESK_BAR else 'MISSED'}.")
        if figures.latency is not None:
            latency = figures.latency
            holds = latency.errors == 0 and latency.ms(0.99) <= figures.P99_BAR_MS
            self.stdout.write(
                f"public form at {latency.rate:g} requests/s offered for {latency.seconds:g} s (open loop, latency from "
                f"each request's due time): p50 {latency.ms(0.5):.1f} ms, p90 {latency.ms(0.9):.1f} ms, "
                f"p99 {latency.ms(0.99):.1f} ms, max {latency.ms(1.0):.1f} ms; {latency.errors} errors "
                f"of {latency.sent}{f' (first: {latency.first_error})' if latency.errors else ''}; "
                f"bar p99 ≤ {figures.P99_BAR_MS:g} ms: {'holds' if holds else 'MISSED'}.")
        if options["json"]:
            options["json"].write_text(json.dumps(figures.as_dict(), indent=2) + "\n", encoding="utf-8")
            self.stdout.write(f"Written to {options['json']}.")


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())
