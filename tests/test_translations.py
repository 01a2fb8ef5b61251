"""The Simplified Chinese catalogue: complete, compiled, and really used by the pages.

The .po file is read with a small parser here (no extra library); the .mo file with the
standard library's gettext, so a stale compile shows up as a differing message.
"""

from __future__ import annotations

import ast
import gettext
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

LOCALE_DIR = Path(settings.LOCALE_PATHS[0]) / "zh_Hans" / "LC_MESSAGES"
PO_FILE = LOCALE_DIR / "django.po"
MO_FILE = LOCALE_DIR / "django.mo"
SOURCE_DIRS = ("cases", "communities", "governance", "volunteers")
GETTEXT_CALLS = {"_", "gettext", "gettext_lazy", "gettext_noop", "ngettext", "ngettext_lazy"}
PLACEHOLDER = re.compile(r"%\([a-z_0-9]+\)[sd]|%[sd]|%%")
FIX_HINT = (
    "run `manage.py makemessages -l zh_Hans --no-location --ignore '.venv/*' ...`, "
    "translate, then `manage.py compilemessages -l zh_Hans --ignore '.venv/*'`"
)


@dataclass
class Entry:
    msgctxt: str | None = None
    msgid: str = ""
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False


def _unquote(text: str) -> str:
    body = text.strip()[1:-1]
    escapes = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "r": "\r"}
    return re.sub(r"\\(.)", lambda m: escapes[m.group(1)], body)


def read_po(path: Path = PO_FILE) -> list[Entry]:
    """Entries of a .po file (the header included, as msgid "")."""
    entries: list[Entry] = []
    for block in re.split(r"\n\s*\n", path.read_text(encoding="utf-8")):
        entry, target = Entry(), None
        for line in block.splitlines():
            if line.startswith("#~"):
                entry.obsolete = True
            elif line.startswith("#,"):
                entry.flags |= {flag.strip() for flag in line[2:].split(",")}
            elif line.startswith("#") or not line.strip():
                continue
            elif match := re.match(r'(msgid_plural|msgid|msgctxt|msgstr(?:\[(\d+)\])?)\s+(".*")$', line):
                keyword, index, value = match.groups()
                if keyword.startswith("msgstr"):
                    target = ("msgstr", int(index or 0))
                    entry.msgstr[target[1]] = _unquote(value)
                else:
                    target = (keyword, None)
                    setattr(entry, keyword, _unquote(value))
            elif line.startswith('"') and target:
                if target[0] == "msgstr":
                    entry.msgstr[target[1]] += _unquote(line)
                else:
                    setattr(entry, target[0], getattr(entry, target[0]) + _unquote(line))
        if entry.msgstr:
            entries.append(entry)
    return entries


def messages() -> list[Entry]:
    return [e for e in read_po() if e.msgid and not e.obsolete]


def _compiled_text(compiled: gettext.GNUTranslations, entry: Entry) -> str:
    if entry.msgctxt is not None and entry.msgid_plural is not None:
        return compiled.npgettext(entry.msgctxt, entry.msgid, entry.msgid_plural, 1)
    if entry.msgctxt is not None:
        return compiled.pgettext(entry.msgctxt, entry.msgid)
    if entry.msgid_plural is not None:
        return compiled.ngettext(entry.msgid, entry.msgid_plural, 1)
    return compiled.gettext(entry.msgid)


def test_the_catalogue_exists_and_is_large():
    assert PO_FILE.exists() and MO_FILE.exists(), FIX_HINT
    assert len(messages()) > 500


def test_the_header_declares_chinese_plural_rules():
    header = next(e for e in read_po() if e.msgid == "").msgstr[0]
    assert "Plural-Forms: nplurals=1; plural=0;" in header
    assert "charset=UTF-8" in header
    assert "fuzzy" not in next(e for e in read_po() if e.msgid == "").flags


def test_every_entry_is_translated():
    untranslated = [e.msgid for e in messages() if not all(s.strip() for s in e.msgstr.values())]
    assert not untranslated, f"untranslated: {untranslated[:20]}; {FIX_HINT}"


def test_no_entry_is_fuzzy():
    fuzzy = [e.msgid for e in messages() if "fuzzy" in e.flags]
    assert not fuzzy, f"fuzzy (check and clear the flag): {fuzzy[:20]}"


def test_plural_entries_have_the_one_chinese_form():
    for entry in messages():
        if entry.msgid_plural is not None:
            assert set(entry.msgstr) == {0}, entry.msgid


def test_translations_keep_every_placeholder():
    for entry in messages():
        wanted = sorted(PLACEHOLDER.findall(entry.msgid_plural or entry.msgid))
        for text in entry.msgstr.values():
            assert sorted(PLACEHOLDER.findall(text)) == wanted, entry.msgid


def test_yesno_arguments_keep_their_ascii_comma():
    for entry in messages():
        if re.fullmatch(r"[a-z][a-z ]*[a-z](,[a-z][a-z ]*[a-z]){1,2}", entry.msgid):
            assert entry.msgstr[0].count(",") == entry.msgid.count(","), entry.msgid


def test_sentences_use_chinese_punctuation():
    for entry in messages():
        text = entry.msgstr[0]
        if re.search(r"[\u4e00-\u9fff]", text):
            # ", " or ". " after a Chinese character is a half-width slip.
            assert not re.search(r"[\u4e00-\u9fff][,.;:?!]\s", text), entry.msgid


def test_the_compiled_catalogue_matches_the_po_file():
    """A .mo compiled before the last .po edit answers with old or missing text."""
    with MO_FILE.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = [e.msgid for e in messages() if _compiled_text(compiled, e) != e.msgstr[0]]
    assert not stale, f".mo is older than .po for {stale[:10]}; {FIX_HINT}"
    assert MO_FILE.stat().st_size > 0


def _python_message_ids() -> set[str]:
    found: set[str] = set()
    for folder in SOURCE_DIRS:
        for path in (Path(settings.BASE_DIR) / folder).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                name = getattr(getattr(node, "func", None), "id", None) or getattr(getattr(node, "func", None), "attr", None)
                if isinstance(node, ast.Call) and name in GETTEXT_CALLS and node.args:
                    first = node.args[0]
                    if isinstance(first, ast.Constant) and isinstance(first.value, str) and first.value:
                        found.add(first.value)
    return found


def _template_message_ids() -> set[str]:
    tag = re.compile(r"""\{%\s*(?:translate|trans)\s+(?:"([^"]*)"|'([^']*)')(?![^%]*\bcontext\b)[^%]*%\}""")
    found: set[str] = set()
    for path in (Path(settings.BASE_DIR) / "templates").rglob("*.html"):
        for match in tag.finditer(path.read_text(encoding="utf-8")):
            found.add(match.group(1) if match.group(1) is not None else match.group(2))
    return found


def test_every_wrapped_string_in_the_code_is_in_the_catalogue():
    """A string wrapped after the last translation pass would show up in English."""
    known = {e.msgid for e in messages() if e.msgctxt is None}
    missing = sorted((_python_message_ids() | _template_message_ids()) - known)
    assert not missing, f"not in the catalogue: {missing[:20]}; {FIX_HINT}"


# --- the pages really speak Chinese -------------------------------------------------------

def _visible_english(page: str) -> list[str]:
    """Catalogue sentences (several words) left in English in the page."""
    text = re.sub(r"<[^>]+>", " ", page)
    return [e.msgid for e in messages() if " " in e.msgid and len(e.msgid) > 12 and e.msgid in text]


@pytest.mark.django_db
def test_the_login_page_is_in_chinese(client):
    page = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    for english, chinese in [("Staff login", "工作人员登录"), ("Log in", "登录"),
                             ("Front page", "首页"), ("Skip to content", "跳到正文")]:
        assert english not in page and chinese in page
    assert "忘记密码" in page
    assert _visible_english(page) == []


@pytest.mark.django_db
def test_the_report_page_is_in_chinese(client, community):
    page = client.get("/report/").content.decode()

    assert "Report a problem" not in page and "反映问题" in page
    assert "Send the request" not in page and "提交诉求" in page
    for english in ("Where did it happen?", "Your name", "Mobile phone", "What happened?",
                    "How your personal information is used"):
        assert english not in page
    assert "手机号码" in page and "个人信息" in page
    assert _visible_english(page) == []


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/track/"])
def test_the_resident_pages_are_in_chinese(client, path):
    page = client.get(path).content.decode()

    assert "查询" in page
    assert _visible_english(page) == []


@pytest.mark.django_db
def test_english_stays_available_with_the_switch(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    page = client.get("/report/").content.decode()

    assert "Report a problem" in page and "反映问题" not in page


def test_model_and_choice_labels_are_translated():
    from cases.models import Case
    from communities.models import Role

    with translation.override("zh-hans"):
        assert str(Case._meta.verbose_name) == "工单"
        assert str(Case.Status.SUBMITTED.label) == "已提交"
        assert str(Role.GRID_WORKER.label) == "网格员"
        assert str(Role.DISPATCHER.label).startswith("派单员")
