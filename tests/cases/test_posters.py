"""QR posters: an A4 page and an SVG file per community and per grid."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET

import pytest
import segno

from cases import posters

pytestmark = pytest.mark.django_db
SVG_NS = "{http://www.w3.org/2000/svg}"


def qr_path(data: str) -> str:
    """The module path segno draws for ``data``: the poster must contain exactly this QR."""
    buffer = io.BytesIO()
    segno.make(data, error="m", micro=False).save(buffer, kind="svg", xmldecl=False, border=0)
    return re.search(r' d="([^"]+)"', buffer.getvalue().decode()).group(1)


def test_community_poster_svg_carries_the_qr_of_the_prefilled_form(client, community):
    response = client.get(f"/posters/{community.code}.svg")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("image/svg+xml")
    body = response.content.decode()
    url = f"http://testserver/report/?unit={community.code}"
    assert url in body  # printed under the code
    assert qr_path(url) in body  # and encoded in it
    assert community.name in body
    assert "http://testserver/track/" in body  # how to follow a request

    root = ET.fromstring(response.content)  # well-formed, an A4 sheet
    assert root.tag == f"{SVG_NS}svg"
    assert (root.get("width"), root.get("height")) == ("210mm", "297mm")


def test_grid_poster_names_community_and_grid(client, community, grid):
    body = client.get(f"/posters/{grid.code}.svg").content.decode()
    assert community.name in body and grid.name in body
    assert qr_path(f"http://testserver/report/?unit={grid.code}") in body


def test_poster_page_is_printable_html_with_the_inline_poster(client, community):
    response = client.get(f"/posters/{community.code}/")
    html = response.content.decode()
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    assert '<div class="poster-sheet"><svg' in html
    assert qr_path(f"http://testserver/report/?unit={community.code}") in html
    assert f"/posters/{community.code}.svg" in html
    assert "css/public.css" in html  # where the @media print A4 rules live


def test_poster_url_follows_the_host_and_scheme_of_the_request(client, community, settings):
    settings.ALLOWED_HOSTS = ["portal.example.gov.cn"]
    body = client.get(
        f"/posters/{community.code}.svg", HTTP_HOST="portal.example.gov.cn", HTTP_X_FORWARDED_PROTO="https"
    ).content.decode()
    assert f"https://portal.example.gov.cn/report/?unit={community.code}" in body


@pytest.mark.parametrize("path", ["/posters/{street}.svg", "/posters/{street}/", "/posters/nope.svg", "/posters/nope/"])
def test_no_poster_for_streets_or_unknown_codes(client, street, path):
    assert client.get(path.format(street=street.code)).status_code == 404


def test_unit_names_are_escaped_in_the_svg(client, street):
    from tests.factories import CommunityFactory

    odd = CommunityFactory(parent=street, name='<script>alert("x")</script>&社区', code="odd")
    body = client.get(f"/posters/{odd.code}.svg").content.decode()
    assert "<script>" not in body
    ET.fromstring(body.encode())


def test_long_text_is_wrapped_to_the_sheet():
    lines = posters.wrap("扫码反映问题" * 10, size=10, width=170)
    assert len(lines) > 1
    assert all(posters._width(line, 10) <= 170 for line in lines)
    assert "".join(lines) == "扫码反映问题" * 10
    english = posters.wrap("Scan to report a problem in your neighbourhood today please", size=10, width=100)
    assert all(not line.startswith(" ") for line in english) and len(english) > 1
