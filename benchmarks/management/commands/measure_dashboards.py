"""``manage.py measure_dashboards``: the former name of ``measure_benchmark`` (same options)."""

from .measure_benchmark import Command  # noqa: F401
