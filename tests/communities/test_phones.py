"""``communities.phones`` is the one phone rule: how a typed number is read, checked and masked."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError

from communities.phones import (
    MASKED_RE, TYPED_PHONE_PATTERN, mask_phone, mask_typed, normalise_phone, validate_mobile,
)


@pytest.mark.parametrize("typed", ["138 1234 5678", "138-1234-5678", "+86 138 1234 5678", "8613812345678", "(138)12345678"])
def test_a_typed_mobile_is_read_as_its_eleven_digits(typed):
    assert normalise_phone(typed) == "13812345678"
    assert validate_mobile(typed) == "13812345678"


def test_a_landline_is_no_mobile():
    with pytest.raises(ValidationError):
        validate_mobile("010-12345678")


def test_a_masked_number_is_recognised_as_masked():
    assert mask_phone("13812345678") == "138****5678"
    assert MASKED_RE.match(mask_phone("13812345678"))
    assert not MASKED_RE.match("13812345678")
    assert mask_phone("12345") == "*****"


def test_what_was_typed_is_shown_back_masked():
    assert mask_typed("138-1234-5678") == "138****5678"
    assert mask_typed("138****5678") == "138****5678"


def test_staff_may_type_a_landline_with_its_extension_but_not_letters():
    typed = re.compile(TYPED_PHONE_PATTERN)
    assert typed.match("010-6512 3456")
    assert typed.match("+86 138 1234 5678")
    assert not typed.match("abc")
    assert not typed.match("1234")
