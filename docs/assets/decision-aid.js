// The decision aid on the 14-situations page: runs in the page, sends nothing anywhere.
// Its rules are the reference tables orphan_situations and unsupported_situations, and its
// answers the wording in sources/handbook/decision_aid.yaml, both written to
// assets/generated/situation-rules.js (window.SITUATION_RULES) by scripts/build_handbook.py.
(function () {
  function same(pair, a, b) {
    return (pair.a === a && pair.b === b) || (pair.a === b && pair.b === a);
  }
  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, (_, key) => (key in values ? values[key] : ""));
  }
  function setUp(aid) {
    const a = aid.querySelector("#parent-a");
    const b = aid.querySelector("#parent-b");
    const out = aid.querySelector("#decision");
    const rules = window.SITUATION_RULES;
    if (!rules) {
      out.textContent = "判断规则没有载入，请直接查上面的表。";
      return;
    }
    function decide() {
      const orphan = rules.orphan.find((p) => same(p, a.value, b.value));
      const unsupported = rules.unsupported.find((p) => same(p, a.value, b.value));
      const able = rules.able_to_care;
      if (orphan) {
        out.dataset.result = "orphan";
        out.textContent = fill(rules.messages.orphan, orphan);
      } else if (unsupported) {
        out.dataset.result = "unsupported";
        out.textContent = fill(rules.messages.unsupported, unsupported);
      } else if (a.value === able || b.value === able) {
        out.dataset.result = "neither";
        out.textContent = rules.messages.neither;
      } else {
        out.dataset.result = "undecided";
        out.textContent = rules.messages.undecided;
      }
    }
    a.addEventListener("change", decide);
    b.addEventListener("change", decide);
    decide();
  }
  function init() {
    document.querySelectorAll(".decision-aid").forEach(setUp);
  }
  if (window.document$) {
    window.document$.subscribe(init);
  } else {
    document.addEventListener("DOMContentLoaded", init);
  }
})();
