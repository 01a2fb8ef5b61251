"""A case's ``get_<field>_display`` (its own, quicker than Django's) answers what Django's answers."""

from __future__ import annotations

import pytest
from django.db import models
from django.utils.translation import override

from cases.models import Case


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_choice_of_a_case_reads_as_djangos_label(language):
    fields = [field for field in Case._meta.concrete_fields if field.choices]
    assert {"status", "source", "kind", "urgency"} <= {field.name for field in fields}
    with override(language):
        for field in fields:
            for value in [*(value for value, _label in field.flatchoices), "not-a-choice", None]:
                case = Case(**{field.attname: value})
                ours = getattr(case, f"get_{field.name}_display")()
                assert ours == models.Model._get_FIELD_display(case, field), (field.name, value)
                assert type(ours) is type(models.Model._get_FIELD_display(case, field))
