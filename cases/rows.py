"""A model row's INSERT as SQL text written once per process, for statements the ORM cannot make
(several inserts of one change in a single round trip, see ``services.intake``).

The values are prepared as the ORM prepares them (``pre_save``, ``get_db_prep_save``); only the
compilation of the statement, the same for every row, is skipped.
"""

from __future__ import annotations

from django.db import connections
from django.db.models import NOT_PROVIDED, Model


class NotPlain(Exception):
    """A value the ORM would compile as an expression (a database default, ``F()``): use the ORM."""


class RowInsert:
    def __init__(self, model: type[Model], *, leading: tuple[str, ...] = ()) -> None:
        """``leading``: attnames put first, whose values the caller writes itself (from a CTE)."""
        meta = model._meta
        fields = [f for f in meta.local_concrete_fields if f is not meta.auto_field and not f.generated]
        if any(hasattr(f, "get_placeholder") for f in fields):
            raise TypeError(f"{model.__name__} has a field with a placeholder of its own: use the ORM.")
        quote = connections["default"].ops.quote_name
        self.table = quote(meta.db_table)
        self.pk = meta.pk
        self.pk_column = quote(self.pk.column)
        self.leading = ", ".join(quote(f.column) for name in leading for f in fields if f.attname == name)
        # A NULL is left out (fewer parameters, a shorter statement) where the column has no default of its own.
        self.fields = [
            (f, quote(f.column), f.db_default is NOT_PROVIDED) for f in fields if f.attname not in leading
        ]

    def values(self, obj: Model, connection) -> tuple[str, list]:
        """The row's columns (the ``leading`` ones first) and values, as ``Model.save`` would send them."""
        columns, values = [self.leading] if self.leading else [], []
        for field, column, null_is_default in self.fields:
            value = field.pre_save(obj, True)
            if value is None and null_is_default:  # Django's fields store None as NULL
                continue
            if hasattr(value, "resolve_expression"):
                raise NotPlain(field.name)
            value = field.get_db_prep_save(value, connection)
            columns.append(column)
            values.append(value)
        return ", ".join(columns), values

    def saved(self, obj: Model, pk, using: str = "default") -> None:
        """Mark ``obj`` as the stored row ``pk``, as ``Model.save`` leaves it."""
        setattr(obj, self.pk.attname, pk)
        obj._state.adding = False
        obj._state.db = using
