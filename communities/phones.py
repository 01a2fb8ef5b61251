"""Phone numbers: the one rule for reading, masking and revealing them, for every app.

- ``normalise_phone`` / ``validate_mobile``: what a person typed (spaces, dashes, brackets, a
  +86 prefix) becomes the digits that are stored.
- ``TYPED_PHONE_PATTERN``: the loose check of a caller's number as staff take it down (a
  landline, an extension, a +86 prefix), kept as typed.
- ``mask_phone``: how a number is shown everywhere (138****1234) unless revealed;
  ``MASKED_RE`` recognises one, ``mask_typed`` masks whatever was typed (an error shown back).
- ``log_reveal`` / ``log_refused_reveal``: every opening of a full number, and every refused
  try, goes to the security log with who, when, what and from where (the request's client
  address, method and path, see ``communities.security``). Each app decides who may reveal its
  numbers (a case's handler, a volunteer's coordinator, a home visitor) and calls these.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .models import SecurityEvent
from .security import log_event

SEPARATORS = re.compile(r"[\s\-()（）]")
MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE_RE = re.compile(r"^(0\d{9,11}|\d{7,8})$")
MASKED_RE = re.compile(r"^\d{3}\*{4}\d{4}$")  # what ``mask_phone`` shows for a full number
TYPED_PHONE_PATTERN = r"^[0-9+\- ]{5,20}$"
TYPED_PHONE_INVALID = _("Enter a phone number (digits only).")


def normalise_phone(value: str) -> str:
    """The digits of a number as typed: separators and a +86 / 86 country prefix removed."""
    digits = SEPARATORS.sub("", value or "")
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits


def validate_mobile(value: str) -> str:
    phone = normalise_phone(value)
    if not MOBILE_RE.match(phone):
        raise ValidationError(
            _("Enter a mainland mobile number: 11 digits starting with 1, e.g. 13812345678."),
            code="phone",
        )
    return phone


def mask_phone(phone: str) -> str:
    """138****1234: the first three and last four digits; a short number is all stars."""
    phone = phone or ""
    if len(phone) < 7:
        return "*" * len(phone)
    return f"{phone[:3]}****{phone[-4:]}"


def mask_typed(value: str) -> str:
    """A number as someone typed it, masked for showing back (its digits only); a masked one as it is."""
    return value if MASKED_RE.match(value) else mask_phone(re.sub(r"\D", "", value))


def log_reveal(*, by, subject: dict, reason: str = "") -> SecurityEvent:
    """A full number was opened. ``subject`` names what it belongs to, e.g.
    ``{"case": "YE92CCDWQM", "field": "resident_phone"}``."""
    detail = dict(subject)
    if reason:
        detail["reason"] = reason
    return log_event(SecurityEvent.Kind.PII_REVEALED, user=by, detail=detail)


def log_refused_reveal(*, by, subject: dict, why: str) -> SecurityEvent:
    """A try to open a full number was refused (``why``: the refusal's message). Call it outside
    the refused transaction, or the entry is rolled back with it."""
    return log_event(SecurityEvent.Kind.DENIED, user=by, detail={**subject, "reveal": "refused", "why": str(why)})
