"""The staff search box through pg_trgm GIN indexes (PostgreSQL only; SQLite scans, as before).

One expression index over the case's searchable text (``cases.search.CASE_SEARCH_INDEXED``:
summary, description, address, 12345 order number, upper-cased as Django's ``icontains``
compares them) and one over the notes of the timeline lines the resident sees. On SQLite, and
on any other database, the migration does nothing.
"""

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations
from django.db.models import Q
from django.db.models.functions import Concat, Upper
from django.db.models import TextField, Value


def _indexes():
    # Written out here (not imported from cases.search) so that the migration keeps building
    # the index it was written for, whatever the module becomes; cases.search must match it.
    text = Concat(
        "title", Value("\n"), "description", Value("\n"), "address", Value("\n"), "hotline_order_no",
        output_field=TextField(),
    )
    return [
        ("Case", GinIndex(OpClass(Upper(text), name="gin_trgm_ops"), name="case_search_trgm")),
        ("TimelineEvent", GinIndex(
            OpClass(Upper("note"), name="gin_trgm_ops"), name="event_public_note_trgm", condition=Q(public=True),
        )),
    ]


def add_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for model_name, index in _indexes():
        schema_editor.add_index(apps.get_model("cases", model_name), index)
    # Statistics of the new expressions: without them the planner guesses 100 matches for any
    # term and reads every match through the index, even for a term in one case in fifty where
    # walking the newest cases first finds a page of them at once (0.5 s against 10 ms at 1 M).
    schema_editor.execute("ANALYZE cases_case")


def remove_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for model_name, index in _indexes():
        schema_editor.remove_index(apps.get_model("cases", model_name), index)


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0011_completion_counts"),
    ]

    operations = [
        TrigramExtension(),  # CREATE EXTENSION IF NOT EXISTS pg_trgm; nothing on SQLite
        # Schema, not data: the tests' replay of data migrations after a flush skips it.
        migrations.RunPython(add_indexes, remove_indexes, elidable=False, hints={"schema_only": True}),
    ]
