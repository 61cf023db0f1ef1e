"""axe-core in the page under test: the pinned copy from tests/e2e/node_modules (`make browser`
runs `npm ci` there), injected by the browser suite only — no page ever loads it, and nothing is
downloaded while the tests run."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import services

AXE_JS = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.0/2.1/2.2 A and AA rules (axe's own tags), nothing from its "best practice" set.
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def axe_source() -> str:
    if not AXE_JS.exists():
        message = f"{AXE_JS} missing: run `make browser` (npm ci in tests/e2e)"
        if services.REQUIRE_SERVICES:
            pytest.fail(message)
        pytest.skip(message)
    return AXE_JS.read_text()


def axe_violations(page) -> list[dict]:
    """The WCAG 2.2 A/AA violations on the page as loaded, each with the selectors it found."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=axe_source())
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_AA
    )
    return [
        {
            "id": violation["id"],
            "help": violation["help"],
            "nodes": [
                {"target": node["target"], "summary": node.get("failureSummary", "")[:300]}
                for node in violation["nodes"][:5]
            ],
        }
        for violation in result["violations"]
    ]


def horizontal_overflow(page) -> list[str]:
    """Elements wider than the viewport or sticking out of it (what makes a page scroll sideways)."""
    return page.evaluate(
        """() => {
          const width = document.documentElement.clientWidth;
          const out = [];
          if (document.documentElement.scrollWidth > width) {
            out.push('document ' + document.documentElement.scrollWidth + ' > ' + width);
          }
          for (const el of document.querySelectorAll('main *, header *')) {
            const box = el.getBoundingClientRect();
            if (box.width && box.right > width + 1) {
              let scroller = el.parentElement, clipped = false;
              while (scroller && scroller !== document.body) {
                const style = getComputedStyle(scroller);
                if (style.overflowX === 'auto' || style.overflowX === 'hidden' || style.overflowX === 'scroll') { clipped = true; break; }
                scroller = scroller.parentElement;
              }
              if (!clipped) out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ').join('.') : '') + ' right=' + Math.round(box.right));
            }
          }
          return out.slice(0, 10);
        }"""
    )
