"""A weight budget for the pensioner pages: what a phone on a weak network downloads.

For one page, everything it can load is counted as the server sends it (gzip where the
server compresses): the HTML, the stylesheet and anything it names (fonts, images), the
page's script and every module it imports, directly or not, and every icon (the capture
screens show them by name). The test fails when a page grows past its budget, and prints
the figures.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from web.assets import STATIC_DIR

pytestmark = [pytest.mark.e2e, pytest.mark.data]

BUDGET_BYTES = 36 * 1024
"""All JS + CSS + fonts + icons of one pensioner page, as sent (gzip). Measured on
2026-12-06: 28.6 KiB for the link page, 15.8 KiB for the result page; the budget leaves
a quarter more, room for a feature, not for a framework."""
HTML_BUDGET_BYTES = 16 * 1024
"""The HTML itself (it carries the page's texts in both languages): 10.7 KiB measured."""

_HTML_REFS = re.compile(r'(?:src|href)="(/static/[^"]+)"')
_JS_IMPORTS = re.compile(r"""(?:\bimport\s*(?:[\w*{}\s,]+\s*from\s*)?|\bimport\s*\(\s*)['"](\.{1,2}/[^'"]+)['"]""")
_CSS_URLS = re.compile(r"""url\(\s*['"]?([^'")]+)['"]?\s*\)""")


@dataclass
class Weight:
    sent: dict[str, int] = field(default_factory=dict)
    raw: dict[str, int] = field(default_factory=dict)

    def kind(self, path: str) -> str:
        suffix = urlsplit(path).path.rsplit(".", 1)[-1]
        return {"js": "js", "css": "css", "svg": "icons", "png": "icons", "woff2": "fonts", "woff": "fonts",
                "ttf": "fonts"}.get(suffix, "other")

    def total(self, kinds: set[str]) -> int:
        return sum(size for path, size in self.sent.items() if self.kind(path) in kinds)

    def summary(self) -> str:
        parts = []
        for kind in ("js", "css", "fonts", "icons"):
            files = [p for p in self.sent if self.kind(p) == kind]
            sent = sum(self.sent[p] for p in files)
            raw = sum(self.raw[p] for p in files)
            parts.append(f"{kind} {len(files)} files {sent / 1024:.1f} KiB ({raw / 1024:.1f} KiB raw)")
        return ", ".join(parts)


def _get(client: httpx.Client, url: str) -> tuple[bytes, int]:
    """The body and how many bytes went over the wire for it."""
    with client.stream("GET", url, headers={"Accept-Encoding": "gzip"}) as response:
        assert response.status_code == 200, url
        body = response.read()
        return body, response.num_bytes_downloaded


def page_weight(base_url: str, page_path: str) -> tuple[Weight, int]:
    weight = Weight()
    with httpx.Client(base_url=base_url, timeout=30) as client:
        html, html_sent = _get(client, page_path)
        queue = _HTML_REFS.findall(html.decode())
        queue += [f"/static/icons/{icon.name}" for icon in sorted((STATIC_DIR / "icons").glob("*.svg"))]
        seen: set[str] = set()
        while queue:
            url = queue.pop()
            key = urlsplit(url).path
            if key in seen:
                continue
            seen.add(key)
            body, sent = _get(client, url)
            weight.sent[key], weight.raw[key] = sent, len(body)
            text = body.decode("utf-8", "replace")
            if key.endswith(".js"):
                queue += [urljoin(key, ref) for ref in _JS_IMPORTS.findall(text)]
            elif key.endswith(".css"):
                queue += [urljoin(key, ref) for ref in _CSS_URLS.findall(text) if not ref.startswith("data:")]
    return weight, html_sent


@pytest.mark.parametrize("page", ["link", "result"])
def test_a_pensioner_page_stays_within_its_weight_budget(live_app, page):
    path = "/l" if page == "link" else f"/r/{'0' * 8}-0000-4000-8000-{'0' * 12}"
    weight, html_sent = page_weight(live_app.base_url, path)
    total = weight.total({"js", "css", "fonts", "icons"})
    print(f"\npage weight /{page}: {total / 1024:.1f} KiB sent of {BUDGET_BYTES / 1024:.0f} KiB budget "
          f"(HTML {html_sent / 1024:.1f} KiB of {HTML_BUDGET_BYTES / 1024:.0f} KiB more); {weight.summary()}")
    assert len([p for p in weight.sent if p.endswith(".js")]) >= 5  # the module graph was followed
    assert total <= BUDGET_BYTES, f"/{page} sends {total} bytes of JS/CSS/fonts/icons, over {BUDGET_BYTES}"
    assert html_sent <= HTML_BUDGET_BYTES, f"/{page} sends {html_sent} bytes of HTML, over {HTML_BUDGET_BYTES}"
