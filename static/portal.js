// Chinese labels for the parts of the map that Leaflet and datasette-cluster-map draw in English.
(function () {
  const words = [
    [/^Zoom in$/, "放大"],
    [/^Zoom out$/, "缩小"],
    [/^load all$/, "全部载入"],
    [/^pause$/, "暂停"],
    [/^Showing ([\d,]+) of ([\d,]+)(.*)$/, "已显示 $1 / $2$3 "],
  ];
  function translate(node) {
    if (node.nodeType === Node.TEXT_NODE) {
      const text = node.textContent.trim();
      for (const [pattern, chinese] of words) {
        if (pattern.test(text)) {
          node.textContent = text.replace(pattern, chinese);
          return;
        }
      }
      return;
    }
    if (node.nodeType !== Node.ELEMENT_NODE) return;
    if (node.title) {
      for (const [pattern, chinese] of words) {
        if (pattern.test(node.title)) node.title = node.title.replace(pattern, chinese);
      }
    }
    const label = node.getAttribute && node.getAttribute("aria-label");
    if (label) {
      for (const [pattern, chinese] of words) {
        if (pattern.test(label)) node.setAttribute("aria-label", label.replace(pattern, chinese));
      }
    }
    node.childNodes.forEach(translate);
  }
  new MutationObserver((changes) => {
    changes.forEach((change) => change.addedNodes.forEach(translate));
  }).observe(document.documentElement, { childList: true, subtree: true });
})();
