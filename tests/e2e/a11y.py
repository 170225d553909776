"""Accessibility checks the browser tests run on a page (issue 15, section 3).

- `audit(page)`: axe-core (the copy bundled in the axe-playwright-python wheel, installed
  with the test tools: nothing is fetched from a CDN or at test time) on the page as it
  is now, WCAG 2.0/2.1/2.2 A and AA rules plus axe's best practices; returns the
  violations.
- `scale_text(page, factor)`: text zoom, as a phone's largest font setting and a
  browser's text scaling do it: every element's font size times `factor` (set through
  the CSSOM, which the pages' Content-Security-Policy allows; layout sizes stay).
- `finish(report, flow)`: print the figures of a flow's pages (and append them to the
  file `CERTIFY_A11Y_REPORT` names), then fail on any serious or critical violation.
- `layout_problems(page)`: what a person would see as broken: the page scrolling
  sideways, text outside the screen, text cut off by a box that hides its overflow,
  text or controls drawn over other text or controls, a sticky bar covering over half
  the screen.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
"""The axe rule sets run: WCAG 2.x levels A and AA and axe's best practices."""

BLOCKING_IMPACTS = ("serious", "critical")
"""Violations of these impacts fail a test; minor and moderate ones are counted."""

TEXT_ZOOM = 2.0
"""200 % text: WCAG 1.4.4 (resize text) and Android's largest font size (200 %, Android 14)."""


@dataclass
class AxeReport:
    """Violations by page, for the figures the tests print."""

    pages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def add(self, name: str, violations: list[dict[str, Any]]) -> None:
        self.pages[name] = violations

    def counts(self, name: str) -> dict[str, int]:
        counts = dict.fromkeys(("critical", "serious", "moderate", "minor"), 0)
        for violation in self.pages[name]:
            counts[violation["impact"] or "minor"] += len(violation["nodes"])
        return counts

    def blocking(self) -> dict[str, list[str]]:
        return {
            name: [describe(v) for v in violations if v["impact"] in BLOCKING_IMPACTS]
            for name, violations in self.pages.items()
            if any(v["impact"] in BLOCKING_IMPACTS for v in violations)
        }

    def table(self) -> str:
        lines = [f"{'page':<44} critical serious moderate minor  rules"]
        for name in self.pages:
            c = self.counts(name)
            rules = ",".join(sorted({v["id"] for v in self.pages[name]})) or "-"
            lines.append(f"{name:<44} {c['critical']:>8} {c['serious']:>7} {c['moderate']:>8} {c['minor']:>5}  {rules}")
        return "\n".join(lines)


def finish(report: AxeReport, flow: str) -> None:
    print(f"\naxe-core on the {flow} pages:\n{report.table()}")
    out = os.environ.get("CERTIFY_A11Y_REPORT")
    if out:
        with open(out, "a", encoding="utf-8") as handle:
            handle.write(json.dumps({flow: {name: report.counts(name) for name in report.pages}}) + "\n")
    assert report.blocking() == {}, json.dumps(report.blocking(), ensure_ascii=False, indent=1)


def describe(violation: dict[str, Any]) -> str:
    targets = "; ".join(" ".join(node["target"]) if isinstance(node["target"], list) else str(node["target"])
                        for node in violation["nodes"][:4])
    return f"{violation['id']} ({violation['impact']}, {len(violation['nodes'])} nodes: {targets}): {violation['help']}"


def audit(page) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now."""
    from axe_playwright_python.base import AXE_SCRIPT

    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_SCRIPT)  # through the DevTools protocol: the page's CSP does not apply
    results = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        AXE_TAGS,
    )
    return results["violations"]


_SCALE_TEXT = """factor => {
  if (window.__textZoom) return 0;  // once per page: later content inherits the sizes (rem, em)
  window.__textZoom = factor;
  const elements = [document.documentElement, ...document.querySelectorAll('body, body *')];
  const sizes = elements.map((el) => parseFloat(getComputedStyle(el).fontSize));
  elements.forEach((el, i) => { el.style.fontSize = `${sizes[i] * factor}px`; });
  return elements.length;
}"""


def scale_text(page, factor: float = TEXT_ZOOM) -> None:
    """Multiply every element's font size by `factor` (text zoom, layout sizes unchanged),
    once per page load: what the page adds later sizes itself from its parent or the root
    (the style sheets size text in rem and em), so it is zoomed too."""
    page.evaluate(_SCALE_TEXT, factor)


_LAYOUT_PROBLEMS = """() => {
  const root = document.documentElement;
  const vw = root.clientWidth, vh = window.innerHeight;
  const problems = [];
  const shown = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const s = getComputedStyle(e);
      if (s.display === 'none' || s.visibility === 'hidden' || s.opacity === '0') return false;
      // text for screen readers only (a 1 px clipped box) is not drawn
      if (s.overflow === 'hidden' && e.getBoundingClientRect().width <= 1) return false;
    }
    return el.getClientRects().length > 0;
  };
  const name = (el) => el.id ? `#${el.id}` : `${el.tagName.toLowerCase()}${el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : ''}`;
  const floating = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const p = getComputedStyle(e).position;
      if (p === 'sticky' || p === 'fixed') return e;
    }
    return null;
  };
  const scrolls = (el) => {  // inside a box one scrolls sideways (a wide table): reachable, not cut off
    for (let e = el.parentElement; e && e !== document.body; e = e.parentElement) {
      const x = getComputedStyle(e).overflowX;
      if ((x === 'auto' || x === 'scroll') && e.scrollWidth > e.clientWidth) return true;
    }
    return false;
  };
  // the part of a box not hidden by a scrolling or clipping ancestor (null: none of it)
  const clipped = (el, r) => {
    let left = r.left, right = r.right, top = r.top, bottom = r.bottom;
    for (let e = el.parentElement; e && e !== document.body && e !== root; e = e.parentElement) {
      const s = getComputedStyle(e);
      if (s.overflowX === 'visible' && s.overflowY === 'visible') continue;
      const c = e.getBoundingClientRect();
      if (s.overflowX !== 'visible') { left = Math.max(left, c.left); right = Math.min(right, c.right); }
      if (s.overflowY !== 'visible') { top = Math.max(top, c.top); bottom = Math.min(bottom, c.bottom); }
    }
    return right - left >= 1 && bottom - top >= 1 ? { left, right, top, bottom } : null;
  };
  if (root.scrollWidth > vw + 1) problems.push(`the page scrolls sideways: ${root.scrollWidth} px wide on a ${vw} px screen`);

  // text runs (one box per line of each text node) and controls
  const boxes = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const el = node.parentElement;
    if (!node.textContent.trim() || !el || !shown(el) || el.closest('script, style, noscript, template')) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    for (const whole of range.getClientRects()) {
      const r = clipped(el, whole);
      if (!r) continue;
      boxes.push({ el, r, what: `text "${node.textContent.trim().slice(0, 30)}" in ${name(el)}` });
      if ((r.right > vw + 1 || r.left < -1) && !scrolls(el)) problems.push(`${boxes[boxes.length - 1].what} is outside the screen (${Math.round(r.left)}-${Math.round(r.right)} of ${vw} px)`);
    }
  }
  for (const el of document.querySelectorAll('button, input, select, textarea, progress, img, .button')) {
    if (!shown(el)) continue;
    const r = clipped(el, el.getBoundingClientRect());
    if (r) boxes.push({ el, r, what: `control ${name(el)}` });
  }

  // text cut off by a box that hides what overflows it
  for (const el of document.querySelectorAll('body *')) {
    if (!shown(el) || !el.textContent.trim() || el.matches('video, svg, svg *, progress, select, input, textarea')) continue;
    const s = getComputedStyle(el);
    const hides = (v) => v === 'hidden' || v === 'clip';
    const cutX = (hides(s.overflowX) || s.textOverflow === 'ellipsis') && el.scrollWidth > el.clientWidth + 1;
    const cutY = hides(s.overflowY) && el.scrollHeight > el.clientHeight + 1;
    if (cutX || cutY) problems.push(`text cut off in ${name(el)} (${el.scrollWidth}x${el.scrollHeight} in ${el.clientWidth}x${el.clientHeight})`);
  }

  // things drawn over each other (sticky and fixed bars float over the page by design)
  const solid = boxes.filter((b) => !floating(b.el));
  for (let i = 0; i < solid.length; i += 1) {
    for (let j = i + 1; j < solid.length; j += 1) {
      const a = solid[i], b = solid[j];
      if (a.el === b.el || a.el.contains(b.el) || b.el.contains(a.el)) continue;
      const w = Math.min(a.r.right, b.r.right) - Math.max(a.r.left, b.r.left);
      const h = Math.min(a.r.bottom, b.r.bottom) - Math.max(a.r.top, b.r.top);
      if (w > 2 && h > 2) problems.push(`${a.what} overlaps ${b.what} by ${Math.round(w)}x${Math.round(h)} px`);
    }
  }
  const bars = new Set(boxes.map((b) => floating(b.el)).filter(Boolean));
  for (const bar of bars) {
    const r = bar.getBoundingClientRect();
    if (r.height > vh / 2) problems.push(`the sticky ${name(bar)} covers ${Math.round(r.height)} of ${vh} px of the screen`);
  }
  return [...new Set(problems)];
}"""


def layout_problems(page) -> list[str]:
    """What is cut off or drawn over something else on the page as it is now."""
    return page.evaluate(_LAYOUT_PROBLEMS)


def open_agency_sign_in(page, url: str) -> None:
    """Open an agency page and wait for its sign-in form (signing out first if signed in)."""
    if page.locator("#logout:visible").count():
        page.click("#logout")
        page.wait_for_selector("#login:not([hidden])")
    page.goto(url)
    page.wait_for_selector("#login:not([hidden])")


def agency_sign_in(page, username: str, *, ready: str) -> None:
    """Sign in on the agency page's form and wait until `ready` shows."""
    from tests.integration.agency_helpers import PASSWORD

    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login button[type=submit]")
    page.wait_for_selector(ready)
