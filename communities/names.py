"""How a person's name is shown: one rule for every page, export, API answer and the admin.

Accounts keep Django's two fields, ``last_name`` (family name, 姓) and ``first_name`` (given
name, 名). A Chinese name reads family name first with no space (杜维臣, not "维臣 杜", which
is what Django's ``get_full_name`` gives); a Western name reads as given ("Anna Schmidt").
``install`` makes ``User.get_full_name`` follow the rule, so templates, the admin and
third-party code that call it show the same name as ``display_name``.
"""

from __future__ import annotations

import re

# CJK ideographs (unified, extension A, compatibility, and the supplementary planes' extensions).
_HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")


def is_chinese(text: str) -> bool:
    return bool(_HAN.search(text or ""))


def person_name(family: str, given: str) -> str:
    """杜 + 维臣 → 杜维臣; Schmidt + Anna → Anna Schmidt; either part may be empty."""
    family, given = (family or "").strip(), (given or "").strip()
    if is_chinese(family) or is_chinese(given):
        return f"{family}{given}"
    return " ".join(part for part in (given, family) if part)


def full_name(user) -> str:
    """The account's name by the rule (empty when neither field is filled)."""
    return person_name(user.last_name, user.first_name)


def display_name(user) -> str:
    """The account's name by the rule, or its username when it has none."""
    return full_name(user) or user.get_username()


def install(user_model) -> None:
    """Make ``get_full_name`` of the user model follow the rule (called once, at app ready)."""
    user_model.get_full_name = full_name
