// Recostack dashboard: draws the charts a page declares, with uPlot (shipped alongside).
// A static chart carries its data: data-chart='{"x": label, "series": {name: [{x, y}]}}'
// or '{"kind": "bars", "labels": [...], "values": [...]}'. Live charts sit in a
// .live-charts[data-src] block and draw the series their data-series names, refreshed.
(function () {
  "use strict";
  var COLORS = ["#0b57d0", "#a4161a", "#1a7f37", "#8250df", "#bc4c00", "#116329", "#6e7781", "#cf222e"];

  function width(el) { return Math.max(280, el.clientWidth || el.parentElement.clientWidth || 600); }

  function lineChart(el, spec) {
    var names = Object.keys(spec.series);
    var xs = {};
    names.forEach(function (n) { spec.series[n].forEach(function (p) { xs[p.x] = true; }); });
    var x = Object.keys(xs).map(Number).sort(function (a, b) { return a - b; });
    var data = [x];
    names.forEach(function (n) {
      var byX = {};
      spec.series[n].forEach(function (p) { byX[p.x] = p.y; });
      data.push(x.map(function (v) { return v in byX ? byX[v] : null; }));
    });
    var series = [{ label: spec.x || "x" }].concat(names.map(function (n, i) {
      return { label: n, stroke: COLORS[i % COLORS.length], width: 2, points: { show: x.length < 30 } };
    }));
    el.innerHTML = "";
    return new uPlot({ width: width(el), height: 220, scales: { x: { time: !!el.dataset.time } }, series: series }, data, el);
  }

  function barChart(el, spec) {
    var max = Math.max.apply(null, spec.values.concat([1]));
    var w = width(el), h = 200, n = spec.values.length, bw = Math.floor((w - 40) / Math.max(n, 1)) - 8;
    var svg = ['<svg xmlns="http://www.w3.org/2000/svg" width="' + w + '" height="' + (h + 30) + '" role="presentation">'];
    spec.values.forEach(function (v, i) {
      var bh = Math.round((h - 20) * v / max), x = 30 + i * (bw + 8);
      svg.push('<rect x="' + x + '" y="' + (h - bh) + '" width="' + bw + '" height="' + bh + '" fill="' + COLORS[0] + '"></rect>');
      svg.push('<text x="' + (x + bw / 2) + '" y="' + (h + 16) + '" text-anchor="middle" font-size="12">' + spec.labels[i] + '</text>');
      svg.push('<text x="' + (x + bw / 2) + '" y="' + (h - bh - 4) + '" text-anchor="middle" font-size="12">' + (Math.round(v * 10) / 10) + '</text>');
    });
    svg.push("</svg>");
    el.innerHTML = svg.join("");
  }

  function drawStatic(root) {
    root.querySelectorAll(".chart[data-chart]").forEach(function (el) {
      var spec = JSON.parse(el.dataset.chart);
      if (spec.kind === "bars") { barChart(el, spec); } else { lineChart(el, spec); }
    });
  }

  function drawLive(block) {
    var span = "1h";
    var plots = {};
    function refresh() {
      fetch(block.dataset.src + "?span=" + span, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (d) {
          if (!d) { return; }
          block.querySelectorAll(".chart[data-series]").forEach(function (el, k) {
            var names = el.dataset.series.split(",");
            var data = [d.x].concat(names.map(function (n) { return d[n]; }));
            if (plots[k]) { plots[k].setData(data); return; }
            el.innerHTML = "";
            plots[k] = new uPlot({
              width: width(el), height: 220,
              series: [{}].concat(names.map(function (n, i) { return { label: n, stroke: COLORS[i], width: 2 }; }))
            }, data, el);
          });
        });
    }
    document.querySelectorAll("button[data-range]").forEach(function (b) {
      b.addEventListener("click", function () {
        span = b.dataset.range;
        document.querySelectorAll("button[data-range]").forEach(function (o) { o.classList.toggle("chosen", o === b); });
        refresh();
      });
    });
    refresh();
    setInterval(refresh, Number(block.dataset.refresh || 5000));
  }

  function init(root) {
    if (typeof uPlot === "undefined") { return; }
    drawStatic(root);
    root.querySelectorAll(".live-charts[data-src]").forEach(drawLive);
  }

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:afterSwap", function (e) { init(e.target); });
})();
