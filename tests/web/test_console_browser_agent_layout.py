"""Browser: the agent's disposition form shows its choices whole at 1280 and 1920 wide. "Then" sat in a row beside
"Pause reason" in the narrow side column and read "Ready for the next" (the word "call" cut off; found taking calls
on the demo)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.web.conftest import pop_call

pytestmark = pytest.mark.browser

# the widest option's text against the room the select gives it (its width less padding and the arrow)
CLIPPED = """(sel) => {
  const s = getComputedStyle(sel), ctx = document.createElement("canvas").getContext("2d");
  ctx.font = `${s.fontWeight} ${s.fontSize} ${s.fontFamily}`;
  const room = sel.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight) - 20;
  return [...sel.options].filter((o) => ctx.measureText(o.text).width > room).map((o) => o.text);
}"""


@pytest.mark.parametrize("width", [1280, 1920])
def test_the_after_call_choices_are_not_cut_off(ready_on_spring, sessions, clock, width):
    page = ready_on_spring
    page.set_viewport_size({"width": width, "height": 900})
    pop_call(sessions, clock, "+12127364421", "Ann")
    expect(page.locator("#state-chip")).to_have_text("talking", timeout=10_000)
    for label in ("Then", "Pause reason"):
        assert page.get_by_label(label).evaluate(CLIPPED) == [], label
