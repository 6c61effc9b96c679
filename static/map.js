// The service map: county outlines (a sketch) with their names, facilities clustered on top,
// a tile layer only if one is configured, and "near me" computed in the browser.
// Leaflet and marker clustering are the copies datasette-leaflet and datasette-cluster-map serve.
(function () {
  "use strict";
  const box = document.getElementById("map");
  if (!box || !window.L) return;
  const attribution = box.dataset.attribution || "县市轮廓：示意图，不是测绘边界";
  // Without a tile layer Leaflet knows no zoom range; clustering and fitBounds need one.
  const maxZoom = Number(box.dataset.maxZoom) || 18;
  const map = L.map(box, { zoomControl: false, attributionControl: true, minZoom: 6, maxZoom: maxZoom });
  L.control.zoom({ zoomInTitle: "放大", zoomOutTitle: "缩小" }).addTo(map);
  map.attributionControl.setPrefix(false);
  if (box.dataset.tiles) {
    const options = { maxZoom: maxZoom, attribution: attribution };
    if (box.dataset.subdomains) options.subdomains = box.dataset.subdomains;
    L.tileLayer(box.dataset.tiles, options).addTo(map);
  } else {
    map.attributionControl.addAttribution("县市轮廓：示意图，不是测绘边界；无在线底图");
  }

  const escape = (s) =>
    String(s == null ? "" : s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

  function km(a, b) {
    const rad = Math.PI / 180;
    const h =
      Math.sin(((b[0] - a[0]) * rad) / 2) ** 2 +
      Math.cos(a[0] * rad) * Math.cos(b[0] * rad) * Math.sin(((b[1] - a[1]) * rad) / 2) ** 2;
    return 2 * 6371 * Math.asin(Math.sqrt(h));
  }

  let facilities = [];
  const outlines = fetch(box.dataset.boundaries)
    .then((r) => r.json())
    .then((data) => {
      const layer = L.geoJSON(data, { style: { className: "county-outline", color: "#1f3b5a", weight: 1.5, fillColor: "#dce6f0", fillOpacity: 0.35 } });
      layer.addTo(map);
      data.features.forEach((f) => {
        L.marker(f.properties.label, {
          icon: L.divIcon({ className: "county-label", html: `<span>${escape(f.properties.name)}</span>`, iconSize: null }),
          interactive: false,
          keyboard: false,
        }).addTo(map);
      });
      const focus = data.features.find((f) => f.properties.county_code === box.dataset.county);
      if (box.dataset.near) {
        const near = box.dataset.near.split(",").map(Number);
        L.circleMarker(near, { radius: 8, color: "#b3261e" }).addTo(map).bindTooltip("查找的起点");
        map.setView(near, 11);
      } else {
        map.fitBounds(focus ? L.geoJSON(focus).getBounds() : layer.getBounds());
      }
    });

  fetch(box.dataset.facilities)
    .then((r) => r.json())
    .then((rows) => {
      facilities = rows;
      const cluster = L.markerClusterGroup({ maxClusterRadius: 40 });
      rows.forEach((row) => {
        const popup = JSON.parse(row.popup || "{}");
        const marker = L.marker([row.latitude, row.longitude], { title: popup.title || "", alt: popup.title || "" });
        marker.bindPopup(
          `<a href="${escape(popup.link)}"><strong>${escape(popup.title)}</strong></a><p>${escape(popup.description)}</p>`
        );
        cluster.addLayer(marker);
      });
      map.addLayer(cluster);
      return outlines;
    });

  const locate = document.getElementById("locate");
  const results = document.getElementById("near-results");
  if (locate && navigator.geolocation) {
    locate.hidden = false;
    locate.addEventListener("click", () => {
      results.textContent = "正在取得您的位置（只在本机计算，不发送到服务器）……";
      navigator.geolocation.getCurrentPosition(
        (position) => {
          const here = [position.coords.latitude, position.coords.longitude];
          const nearest = facilities
            .map((f) => ({ f: f, d: km(here, [f.latitude, f.longitude]) }))
            .sort((a, b) => a.d - b.d)
            .slice(0, 10);
          const items = nearest
            .map(({ f, d }) => {
              const popup = JSON.parse(f.popup || "{}");
              return `<li><a href="${escape(popup.link)}">${escape(popup.title)}</a> <span class="note">约 ${d.toFixed(1)} 公里 · ${escape(f["类型"] || "")}${f["服务热线"] ? " · 热线 " + escape(f["服务热线"]) : ""}</span></li>`;
            })
            .join("");
          results.innerHTML = `<p>离您的位置直线距离最近的 ${nearest.length} 个服务机构：</p><ol>${items}</ol>`;
          L.circleMarker(here, { radius: 8, color: "#b3261e" }).addTo(map).bindTooltip("您的位置");
          map.setView(here, 11);
        },
        () => {
          results.textContent = "没能取得您的位置（可能没有授权）。请改用上面的乡镇选择。";
        },
        { enableHighAccuracy: false, timeout: 10000 }
      );
    });
  }
})();
