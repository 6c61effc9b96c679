// The decision aid on the 14-situations page: runs in the page, sends nothing anywhere.
// Its rules are the reference tables orphan_situations and unsupported_situations, written to
// assets/generated/situation-rules.js (window.SITUATION_RULES) by scripts/build_handbook.py.
(function () {
  function same(pair, a, b) {
    return (pair.a === a && pair.b === b) || (pair.a === b && pair.b === a);
  }
  function setUp(aid) {
    const a = aid.querySelector("#parent-a");
    const b = aid.querySelector("#parent-b");
    const out = aid.querySelector("#decision");
    const rules = window.SITUATION_RULES;
    if (!rules) {
      out.textContent = "判断规则没有载入,请直接查上面的表。";
      return;
    }
    function decide() {
      const orphan = rules.orphan.find((p) => same(p, a.value, b.value));
      const unsupported = rules.unsupported.find((p) => same(p, a.value, b.value));
      if (orphan) {
        out.dataset.result = "orphan";
        out.textContent = `孤儿:${orphan.name}(第${orphan.clause}条)。`;
      } else if (unsupported) {
        out.dataset.result = "unsupported";
        out.textContent = `事实无人抚养儿童:第${unsupported.no}种情形“${unsupported.name}”(第${unsupported.clause}条)。`;
      } else {
        out.dataset.result = "neither";
        out.textContent =
          "按本政策既不属于孤儿,也不属于事实无人抚养儿童(第二(一)、二(三)条)。如有残疾、重病、低保、监护缺失等情况,请对照其他类别。";
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
