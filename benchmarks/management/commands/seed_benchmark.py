"""``manage.py seed_benchmark``: a realistic area with N cases over M months, for measuring.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench manage.py seed_benchmark --cases 1000000

Creates the PostgreSQL database if it does not exist yet and migrates it. Development
and benchmark machines only: it creates staff accounts with a published password.
"""

from __future__ import annotations

import resource
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import OperationalError, connection

from benchmarks import seed as benchmark


class Command(BaseCommand):
    help = "Create the benchmark area (code 'bm') with N cases over M months, streamed (COPY on PostgreSQL)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--cases", type=int, default=100_000, help="How many cases (default 100000).")
        parser.add_argument("--months", type=int, default=24, help="Over how many months, up to now (default 24).")
        parser.add_argument("--streets", type=int, default=benchmark.Shape.streets,
                            help=f"Streets in the area (default {benchmark.Shape.streets}).")
        parser.add_argument("--communities", type=int, default=benchmark.Shape.communities,
                            help=f"Communities in each street (default {benchmark.Shape.communities}).")
        parser.add_argument("--buildings", type=int, default=benchmark.Shape.buildings,
                            help=f"Buildings in each of a community's {benchmark.Shape.grids} grids "
                                 f"(default {benchmark.Shape.buildings}).")
        parser.add_argument("--seed", type=int, default=2024, help="Random seed: the same seed gives the same data.")
        parser.add_argument("--reset", action="store_true",
                            help="Remove a benchmark area loaded before (refused if other cases exist).")

    def handle(self, *args, **options) -> None:
        if not settings.DEBUG:
            raise CommandError("seed_benchmark creates accounts with a published password: it refuses to run with DEBUG off.")
        sizes = ("cases", "months", "streets", "communities", "buildings")
        if min(options[name] for name in sizes) < 1:
            raise CommandError("--cases, --months, --streets, --communities and --buildings must be at least 1.")
        ensure_database(self.stdout.write)
        call_command("migrate", verbosity=0)
        if benchmark.area_exists():
            if not options["reset"]:
                raise CommandError("A benchmark area exists already: add --reset to replace it.")
            try:
                benchmark.remove_area(out=self.stdout.write)
            except ValueError as error:
                raise CommandError(str(error)) from None
        started = time.perf_counter()
        loaded = benchmark.seed(
            cases=options["cases"], months=options["months"], random_seed=options["seed"],
            shape=benchmark.Shape(streets=options["streets"], communities=options["communities"],
                                  buildings=options["buildings"]),
            out=self.stdout.write,
        )
        seconds = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        self.stdout.write(self.style.SUCCESS(
            f"Loaded {loaded.summary()}; {loaded.frozen_months} months frozen in {seconds:.0f} s "
            f"({loaded.cases / max(seconds, 0.001):.0f} cases/s), peak memory {peak:.0f} MB."
        ))


def ensure_database(out) -> None:
    """Create the configured PostgreSQL database when it does not exist yet."""
    if connection.vendor != "postgresql":
        return
    try:
        connection.ensure_connection()
        return
    except OperationalError as error:
        if "does not exist" not in str(error):
            raise
    name = connection.settings_dict["NAME"]
    with connection._nodb_cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {connection.ops.quote_name(name)}")
    out(f"Created the database {name}.")
