// Leaflet in Chinese, for every map on the portal, the ones datasette-cluster-map draws on
// table pages included. Leaflet's bundle ends with `window.L = ...`, so a setter here sees it
// before any map is made and changes the defaults once:
// - no "Leaflet" prefix in the corner (its licence does not ask for one; the tile
//   provider's attribution stays), zoom buttons titled in Chinese;
// - the pop-up datasette-cluster-map writes for a row without a `popup` column (a list of
//   API column names and values) gets the columns' Chinese titles and code labels, which
//   the table page lists in #portal-column-labels; empty values are left out.
// A classic script in <head>, so it runs before the module scripts that load Leaflet.
(function () {
  "use strict";
  let leaflet;

  function labels() {
    const block = document.getElementById("portal-column-labels");
    return block ? JSON.parse(block.textContent) : null;
  }

  function chinesePopup(html, known) {
    const box = document.createElement("div");
    box.innerHTML = html;
    const list = box.querySelector("dl");
    for (const term of Array.from(list.querySelectorAll("dt"))) {
      const value = term.nextElementSibling;
      const column = term.textContent;
      const text = value ? value.textContent : "";
      if (!value || text === "null" || text === "") {
        term.remove();
        if (value) value.remove();
        continue;
      }
      term.textContent = known.titles[column] || column;
      const codes = known.values[column];
      if (codes && codes[text] !== undefined) value.textContent = codes[text];
      const code = value.querySelector("span"); // a labelled foreign key: "label code"
      if (code && /[A-Za-z]/.test(code.textContent)) code.remove();
      if (known.key && column === known.key) {
        const link = document.createElement("a");
        link.href = known.row + encodeURIComponent(text);
        link.textContent = "查看详情";
        list.before(link);
      }
    }
    return box.innerHTML;
  }

  function chinese(L) {
    if (!L || !L.Control || L.portalChinese) return;
    L.portalChinese = true;
    L.Control.Attribution.prototype.options.prefix = false;
    L.Control.Zoom.prototype.options.zoomInTitle = "放大";
    L.Control.Zoom.prototype.options.zoomOutTitle = "缩小";
    // A marker is focusable (keyboard users open its pop-up), so its image needs a name, not
    // the empty alt that also marks it as decoration.
    L.Marker.addInitHook(function () {
      if (!this.options.alt) this.options.alt = this.options.title || "服务机构的位置";
    });
    const bindPopup = L.Layer.prototype.bindPopup;
    L.Layer.prototype.bindPopup = function (content, options) {
      const known = typeof content === "string" && content.startsWith('<dl class="cluster-map-dl"') && labels();
      return bindPopup.call(this, known ? chinesePopup(content, known) : content, options);
    };
  }

  Object.defineProperty(window, "L", {
    configurable: true,
    get: () => leaflet,
    set: (value) => {
      leaflet = value;
      chinese(value);
    },
  });
})();
