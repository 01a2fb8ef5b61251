"""Restoring what data migrations wrote, for tests that commit for real."""

from django.db import connection


def replay_data_migrations() -> None:
    """Write again what data migrations wrote (role groups and permissions, categories, skills).

    Transactional tests commit for real and the database is flushed after each one, which
    empties those tables for every later test; the migrations' forward functions are
    idempotent, so running them again restores exactly the migrated state.
    """
    from types import SimpleNamespace

    from django.apps import apps
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.operations.special import RunPython

    graph = MigrationLoader(connection).graph
    editor = SimpleNamespace(connection=connection)  # data migrations only read .connection
    seen = set()
    for leaf in graph.leaf_nodes():
        for key in graph.forwards_plan(leaf):
            if key not in seen:
                seen.add(key)
                for operation in graph.nodes[key].operations:
                    if isinstance(operation, RunPython) and not operation.hints.get("schema_only"):
                        operation.code(apps, editor)
