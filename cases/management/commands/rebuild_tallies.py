"""Recount the dashboards' day, category, hotspot and work tallies from the cases (after a bulk load or SQL repair)."""

import time

from django.core.management.base import BaseCommand, CommandError

from cases import rates, tallies


class Command(BaseCommand):
    help = "Recount the day, category, hotspot and work tallies from the cases; --check only reports differences."

    def add_arguments(self, parser):
        parser.add_argument("--since", help="YYYY-MM: recount from this month on (default: everything)")
        parser.add_argument("--check", action="store_true", help="Report tallies that differ; change nothing.")

    def handle(self, *args, since=None, check=False, **options):
        if check:
            wrong = tallies.differences() + [line for _name, _rebuild, theirs in tallies.elsewhere() for line in theirs()]
            for line in wrong[:50]:
                self.stdout.write(line)
            if wrong:
                raise CommandError(f"{len(wrong)} tallies differ from the cases; run rebuild_tallies.")
            self.stdout.write(self.style.SUCCESS("Every tally matches the cases."))
            return
        try:
            start = rates.parse_month(since) if since else None
        except ValueError:
            raise CommandError(f"--since must look like 2026-10, not {since!r}.") from None
        began = time.perf_counter()
        days, categories = tallies.rebuild(since=start)
        waiting = tallies.recount_awaiting_visits()
        work = tallies.rebuild_work()
        others = "".join(f", {rebuild()} {name} tallies" for name, rebuild, _check in tallies.elsewhere())
        self.stdout.write(self.style.SUCCESS(
            f"{days} day tallies, {categories} category tallies, {work} work tallies{others} written, {waiting} "
            f"merged callers await a return visit; {time.perf_counter() - began:.1f} s."
        ))
