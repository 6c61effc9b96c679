// 「引用本页」: a relative fixed address gets the visitor's own origin, the date cited is
// today's, and the citation can be copied with one tap. Nothing is sent anywhere.
(function () {
  var today = new Date();
  var pad = function (n) { return (n < 10 ? "0" : "") + n; };
  var date = today.getFullYear() + "-" + pad(today.getMonth() + 1) + "-" + pad(today.getDate());
  document.querySelectorAll("[data-cite-today]").forEach(function (el) { el.textContent = date; });
  document.querySelectorAll("[data-cite-url]").forEach(function (el) {
    if (el.textContent.charAt(0) === "/") el.textContent = location.origin + el.textContent;
  });
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source || !navigator.clipboard) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(source.textContent.trim()).then(function () {
        button.textContent = "已复制";
      }, function () {
        var range = document.createRange();
        range.selectNodeContents(source);
        var selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
        button.textContent = "已选中，请按 Ctrl+C 复制";
      });
    });
  });
})();
