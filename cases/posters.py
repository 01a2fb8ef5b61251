"""Print-ready A4 QR posters for a community or a grid: scan → the request form with the place filled.

The poster is one SVG (210 × 297 mm): the same drawing is served as a file (/posters/<code>.svg)
and inlined in the printable page (/posters/<code>/). Every text is escaped here, so the SVG can
be inlined safely.
"""

from __future__ import annotations

import io
import unicodedata
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

import segno
from django.conf import settings
from django.utils.translation import gettext as _

from communities.models import Unit

POSTER_LEVELS = (Unit.Level.COMMUNITY, Unit.Level.GRID)
WIDTH, HEIGHT, MARGIN = 210, 297, 20  # mm
FONT = "'Noto Sans CJK SC','Source Han Sans SC','PingFang SC','Microsoft YaHei',sans-serif"
ACCENT = "#c52f21"


@dataclass(frozen=True)
class Poster:
    unit: Unit
    report_url: str
    track_url: str

    @property
    def place_names(self) -> list[str]:
        if self.unit.level == Unit.Level.GRID and self.unit.parent_id:
            return [self.unit.parent.name, self.unit.name]
        return [self.unit.name]

    @property
    def place(self) -> str:
        return " · ".join(self.place_names)


def qr_svg(data: str, *, x: float, y: float, size: float) -> str:
    """The QR code of ``data`` as a nested <svg> placed at (x, y), ``size`` mm wide."""
    buffer = io.BytesIO()
    qr = segno.make(data, error="m", micro=False)
    qr.save(buffer, kind="svg", xmldecl=False, svgns=False, omitsize=True, border=0, dark="#000")
    svg = buffer.getvalue().decode("utf-8")
    return svg.replace("<svg ", f'<svg x="{x}" y="{y}" width="{size}" height="{size}" ', 1)


def _width(text: str, size: float) -> float:
    """Rough rendered width: CJK and full-width characters are one em, others about half."""
    wide = sum(1 for ch in text if unicodedata.east_asian_width(ch) in "WF")
    return size * (wide + 0.6 * (len(text) - wide))


def wrap(text: str, *, size: float, width: float) -> list[str]:
    """Break ``text`` into lines no wider than ``width`` (at spaces where there are any)."""
    lines, line = [], ""
    for token in _tokens(text):
        if line and _width(line + token, size) > width:
            lines.append(line.rstrip())
            line = token.lstrip()
        else:
            line += token
    if line.strip():
        lines.append(line.rstrip())
    return lines


def _tokens(text: str) -> list[str]:
    tokens, word = [], ""
    for ch in text:
        if unicodedata.east_asian_width(ch) in "WF":
            tokens += [word, ch] if word else [ch]
            word = ""
        elif ch == " ":
            tokens.append(word + " ")
            word = ""
        else:
            word += ch
    return tokens + ([word] if word else [])


def _text(lines: list[str], *, y: float, size: float, weight: str = "400", fill: str = "#111",
          family: str = FONT, gap: float = 1.35) -> tuple[str, float]:
    parts = []
    for line in lines:
        parts.append(
            f'<text x="{WIDTH / 2}" y="{y:.1f}" font-size="{size}" font-weight="{weight}" fill="{fill}" '
            f'font-family="{family}" text-anchor="middle">{escape(line)}</text>'
        )
        y += size * gap
    return "\n".join(parts), y


def render_svg(poster: Poster) -> str:
    inner = WIDTH - 2 * MARGIN
    title_lines = wrap(_("Scan to report a problem"), size=14, width=inner)
    band = 16 + 14 * 1.3 * len(title_lines)
    title, _y = _text(title_lines, y=22, size=14, weight="700", fill="#fff", gap=1.3)
    parts = [f'<rect x="0" y="0" width="{WIDTH}" height="{band:.1f}" fill="{ACCENT}"/>', title]
    place_lines = [line for name in poster.place_names for line in wrap(name, size=9, width=inner)]
    place, y = _text(place_lines, y=band + 16, size=9, weight="700")
    lead_lines = wrap(_("Broken lights, leaks, rubbish, noise, anything in your neighbourhood: "
                        "tell your community. Every request is answered."), size=5, width=inner)
    lead, y = _text(lead_lines, y=y + 2, size=5, fill="#333")
    qr_size = 96
    qr = qr_svg(poster.report_url, x=(WIDTH - qr_size) / 2, y=y + 6, size=qr_size)
    url, y = _text(wrap(poster.report_url, size=4, width=inner), y=y + 6 + qr_size + 10, size=4,
                   family="ui-monospace,Menlo,Consolas,monospace", fill="#333")
    parts += [place, lead, qr, url, _tracking(poster, y=y + 8, inner=inner)]
    return _document("\n".join(parts), title=_("Scan to report a problem") + " · " + poster.place)


def _tracking(poster: Poster, *, y: float, inner: float) -> str:
    heading, y = _text([_("Follow your request")], y=y, size=6, weight="700", fill=ACCENT)
    body = _("After sending, you get a tracking code. Open %(url)s and enter the code and the last "
             "four digits of your phone to see the progress and rate the result.") % {"url": poster.track_url}
    text, _y = _text(wrap(body, size=4.4, width=inner), y=y + 1, size=4.4, fill="#333")
    return heading + "\n" + text


def _document(body: str, *, title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}mm" height="{HEIGHT}mm" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label={quoteattr(title)}>\n'
        f"<title>{escape(title)}</title>\n"
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#fff"/>\n{body}\n'
        f'<text x="{WIDTH / 2}" y="{HEIGHT - 10}" font-size="3.8" fill="#777" font-family="{FONT}" '
        f'text-anchor="middle">{escape(str(settings.PORTAL_NAME))}</text>\n</svg>\n'
    )
