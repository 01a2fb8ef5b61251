/* Dashboard charts: Apache ECharts (vendored) drawn from the page's JSON (json_script).
   Each chart is also kept as an image that replaces it in print, so the monthly report
   prints its trends on paper. No inline script: the page carries data, this file the code. */
(function () {
  "use strict";

  var node = document.getElementById("dashboard-data");
  var entries = [];

  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
  if (!node || !window.echarts) { return; }
  var data = JSON.parse(node.textContent);
  var labels = data.labels;

  function axes(categories, percent) {
    return {
      animation: false,
      grid: { left: 48, right: 16, top: 36, bottom: 28 },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: categories },
      yAxis: { type: "value", scale: !!percent, axisLabel: { formatter: percent ? "{value}" : null } }
    };
  }

  function line(name, values) {
    return { name: name, type: "line", data: values, connectNulls: false, symbolSize: 5 };
  }

  var builders = {
    counted: function () {
      var option = axes(data.months, false);
      option.series = [{ name: labels.counted, type: "bar", data: data.counted }];
      return option;
    },
    rates: function () {
      var option = axes(data.months, true);
      option.legend = { top: 0 };
      option.series = [
        line(labels.response, data.response),
        line(labels.resolution, data.resolution),
        line(labels.satisfaction, data.satisfaction),
        line(labels.composite, data.composite)
      ];
      return option;
    },
    children: function () {
      var option = axes(data.months, true);
      option.legend = { top: 0, type: "scroll" };
      option.series = data.children.map(function (child) { return line(child.name, child.composite); });
      return option;
    },
    received: function () {
      var option = axes(data.days, false);
      option.series = [{ name: labels.received, type: "bar", data: data.received }];
      return option;
    }
  };

  // The chart as a picture beside it; print CSS shows the picture instead of the canvas.
  function snapshot(entry) {
    var image = entry.figure.querySelector("img.chart-print");
    if (!image) {
      image = document.createElement("img");
      image.className = "chart-print";
      image.alt = entry.canvas.getAttribute("aria-label") || "";
      entry.canvas.parentNode.insertBefore(image, entry.canvas.nextSibling);
    }
    image.src = entry.chart.getDataURL({ type: "png", pixelRatio: 2, backgroundColor: "#fff" });
    entry.figure.classList.add("has-print-image");
  }

  document.querySelectorAll("figure.chart[data-chart]").forEach(function (figure) {
    var build = builders[figure.getAttribute("data-chart")];
    var canvas = figure.querySelector(".chart-canvas");
    if (!build || !canvas) { return; }
    var entry = { figure: figure, canvas: canvas, chart: echarts.init(canvas, null, { renderer: "canvas" }) };
    entry.chart.setOption(build());
    entries.push(entry);
    snapshot(entry);  // ready before printing starts (headless printers fire no beforeprint)
  });

  window.addEventListener("beforeprint", function () { entries.forEach(snapshot); });
  window.addEventListener("resize", function () {
    entries.forEach(function (entry) { entry.chart.resize(); });
  });
}());
