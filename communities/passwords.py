"""Password complexity (settings.AUTH_PASSWORD_VALIDATORS): characters from several classes."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import ngettext

CLASSES = (
    ("lower", str.islower),
    ("upper", str.isupper),
    ("digit", str.isdigit),
    ("symbol", lambda char: not char.isalnum()),
)


class ComplexityValidator:
    """At least ``min_classes`` of: lower-case letters, upper-case letters, digits, other characters."""

    def __init__(self, min_classes: int = 3):
        self.min_classes = max(1, min(min_classes, len(CLASSES)))

    def validate(self, password: str, user=None) -> None:
        used = sum(1 for _name, test in CLASSES if any(test(char) for char in password))
        if used < self.min_classes:
            raise ValidationError(self.message(), code="password_too_simple")

    def message(self) -> str:
        return ngettext(
            "The password must mix at least %(min)d kind of character: lower-case letters, "
            "upper-case letters, digits, other characters.",
            "The password must mix at least %(min)d kinds of characters: lower-case letters, "
            "upper-case letters, digits, other characters.",
            self.min_classes,
        ) % {"min": self.min_classes}

    def get_help_text(self) -> str:
        return self.message()
