/* A monthly theme's effect: cases a month before and after adoption (ECharts, vendored),
   drawn from the page's JSON (json_script). No inline script: the page carries data. */
(function () {
  "use strict";

  var node = document.getElementById("theme-data");
  var figure = document.querySelector("figure.chart[data-chart='effect']");
  if (!node || !figure || !window.echarts) { return; }
  var data = JSON.parse(node.textContent);
  var canvas = figure.querySelector(".chart-canvas");
  var adoptedAt = data.months.indexOf(data.adopted);
  var chart = echarts.init(canvas, null, { renderer: "canvas" });
  chart.setOption({
    animation: false,
    grid: { left: 40, right: 16, top: 28, bottom: 28 },
    tooltip: { trigger: "axis" },
    xAxis: { type: "category", data: data.months },
    yAxis: { type: "value", minInterval: 1 },
    series: [{
      name: data.labels.cases,
      type: "bar",
      data: data.counts.map(function (value, index) {
        return { value: value, itemStyle: { color: index < adoptedAt ? "#9aa5b1" : "#c0392b" } };
      }),
      markLine: adoptedAt < 0 ? undefined : {
        symbol: "none",
        label: { formatter: data.labels.adopted },
        data: [{ xAxis: data.adopted }]
      }
    }]
  });
  window.addEventListener("resize", function () { chart.resize(); });
}());
