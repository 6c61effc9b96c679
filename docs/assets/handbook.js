// Two small fixes to the theme's behaviour, for this handbook:
// - search answers text that arrives without a key press (pasted, or from an input method):
//   the theme listens for key events, so an input event is passed on as one;
// - the search dialog gets a name for screen readers;
// - wide tables, which scroll inside their own box, can be reached and scrolled by keyboard.
(function () {
  function setUp() {
    const dialog = document.querySelector(".md-search");
    if (dialog && !dialog.getAttribute("aria-label")) dialog.setAttribute("aria-label", "搜索本手册");
    // Each box gets its own name (the heading above it, and its number when a section has
    // several): landmarks with the same name cannot be told apart by a screen reader.
    const used = {};
    document.querySelectorAll(".md-typeset__scrollwrap").forEach((box) => {
      let heading = box.previousElementSibling;
      while (heading && !/^H[1-6]$/.test(heading.tagName)) heading = heading.previousElementSibling;
      const base = "表格" + (heading ? "：" + heading.textContent.replace(/[¶#]/g, "").trim() : "");
      used[base] = (used[base] || 0) + 1;
      const name = used[base] > 1 ? base + "（" + used[base] + "）" : base;
      box.setAttribute("tabindex", "0");
      box.setAttribute("role", "region");
      box.setAttribute("aria-label", name + "（可左右滚动）");
    });
    const input = document.querySelector("input.md-search__input");
    if (input && !input.dataset.pasteAware) {
      input.dataset.pasteAware = "1";
      input.addEventListener("input", () => input.dispatchEvent(new KeyboardEvent("keyup", { bubbles: true })));
    }
  }
  if (window.document$) window.document$.subscribe(setUp);
  else document.addEventListener("DOMContentLoaded", setUp);
})();
