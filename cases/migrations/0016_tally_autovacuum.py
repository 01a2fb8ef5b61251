from django.db import migrations

# Every web report upserts the same three rows (its street's day, month-and-category and
# "submitted" work tallies). Their old versions pile up until a vacuum, and each later upsert
# walks them: on the 1 M benchmark PostgreSQL's CPU per report went 2.2 → 4.0 ms after 16 000
# reports and to 7.7 ms after 41 000. PostgreSQL's default waits for a fifth of a table's rows to
# be dead (54 000 in a day tally of 270 000 rows); these tables are vacuumed after 1 000.
TALLY_TABLES = ("cases_daytally", "cases_categorytally", "cases_worktally")
SETTINGS = "autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000"


def vacuum_often(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table in TALLY_TABLES:
            schema_editor.execute(f"ALTER TABLE {schema_editor.quote_name(table)} SET ({SETTINGS})")


def vacuum_by_default(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table in TALLY_TABLES:
            schema_editor.execute(
                f"ALTER TABLE {schema_editor.quote_name(table)} "
                "RESET (autovacuum_vacuum_scale_factor, autovacuum_vacuum_threshold)"
            )


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0015_work_tallies"),
    ]

    operations = [
        migrations.RunPython(vacuum_often, vacuum_by_default, hints={"schema_only": True}),
    ]
