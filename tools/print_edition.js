// The print edition's explorers (injected by tools/make_pdf.py before the page is printed).
//
// Each static explorer (a div.nnp-explorer written by nnpuzzles.explorer's scrubber template)
// gets a grid of its preset frames, each with a caption naming the preset and the parameter
// values, or, for an explorer without presets, a few evenly spaced frames of its first
// parameter. The interactive controls are hidden in print by tools/print_edition.css; the
// explorer's own HTML is not changed, only a div.nnp-print-grid is appended to it.
//
// Everything read from the page is validated: frame keys are indices like "2,0", frames are
// base64 PNG data, preset indices are integers within the sliders' ranges. An explorer that fails
// gets no grid and its error is returned, so the tool refuses to print a wrong book.
(function () {
  "use strict";
  var PNG_BASE64 = /^iVBORw0KGgo[A-Za-z0-9+/]*={0,2}$/;  // the PNG signature, then base64
  var KEY = /^\d+(,\d+)*$/;
  var EVEN_FRAMES = 4;  // frames shown for an explorer without presets

  function parseJSON(text, what) {
    try { return JSON.parse(text); } catch (e) { throw new Error(what + " is not JSON"); }
  }

  function readExplorer(root) {
    var title = root.dataset.title;
    if (typeof title !== "string" || !title.trim()) { throw new Error("no title"); }
    var order = parseJSON(root.dataset.params || "", "data-params");
    if (!Array.isArray(order) || !order.length || order.some(function (n) { return typeof n !== "string"; })) {
      throw new Error("data-params is not a list of names");
    }
    var script = root.querySelector("script.nnp-frames");
    if (!script) { throw new Error("no frames"); }
    var frames = parseJSON(script.textContent, "the frames");
    if (!frames || typeof frames !== "object" || Array.isArray(frames)) { throw new Error("the frames are not an object"); }
    Object.keys(frames).forEach(function (key) {
      if (!KEY.test(key) || key.split(",").length !== order.length) { throw new Error("bad frame key " + JSON.stringify(key)); }
      if (typeof frames[key] !== "string" || !PNG_BASE64.test(frames[key])) { throw new Error("frame " + key + " is not PNG data"); }
    });
    var params = order.map(function (name) {
      var input = null;
      root.querySelectorAll("input[type=range]").forEach(function (el) { if (el.dataset.param === name) { input = el; } });
      if (!input) { throw new Error("no slider for " + name); }
      var labels = parseJSON(input.dataset.labels || "", "the labels of " + name);
      if (!Array.isArray(labels) || !labels.length) { throw new Error("no labels for " + name); }
      var start = Number(input.getAttribute("value"));
      if (!Number.isInteger(start) || start < 0 || start >= labels.length) { throw new Error("bad start of " + name); }
      var label = input.closest("label");
      var text = label && label.firstChild && label.firstChild.nodeType === Node.TEXT_NODE
        ? label.firstChild.textContent.trim() : "";
      return {name: name, text: text || name, labels: labels.map(String), start: start};
    });
    var presets = [];
    root.querySelectorAll("button.nnp-preset").forEach(function (button) {
      var index = parseJSON(button.dataset.preset || "", "a preset");
      if (!index || typeof index !== "object" || Array.isArray(index)) { throw new Error("a preset is not an object"); }
      Object.keys(index).forEach(function (name) {
        var param = params.find(function (p) { return p.name === name; });
        if (!param || !Number.isInteger(index[name]) || index[name] < 0 || index[name] >= param.labels.length) {
          throw new Error("preset " + JSON.stringify(button.textContent) + " has a bad value for " + name);
        }
      });
      presets.push({name: button.textContent.trim(), index: index});
    });
    return {title: title.trim(), params: params, frames: frames, presets: presets};
  }

  function cells(explorer) {  // [{caption, key}] in print order
    var params = explorer.params;
    var settings;
    if (explorer.presets.length) {
      settings = explorer.presets.map(function (preset) {
        return {name: preset.name, index: params.map(function (p) {
          return preset.index.hasOwnProperty(p.name) ? preset.index[p.name] : p.start;
        })};
      });
    } else {
      var first = params[0], n = Math.min(EVEN_FRAMES, first.labels.length), seen = {};
      settings = [];
      for (var k = 0; k < n; k++) {
        var i = n === 1 ? 0 : Math.round(k * (first.labels.length - 1) / (n - 1));
        if (seen[i]) { continue; }
        seen[i] = true;
        settings.push({name: "", index: params.map(function (p, j) { return j === 0 ? i : p.start; })});
      }
    }
    return settings.map(function (setting) {
      var key = setting.index.join(",");
      if (!explorer.frames.hasOwnProperty(key)) { throw new Error("no frame " + key); }
      var values = params.map(function (p, j) { return p.text + " = " + p.labels[setting.index[j]]; }).join(", ");
      return {preset: setting.name, values: values, key: key};
    });
  }

  function grid(root, explorer, alt) {
    var box = document.createElement("div");
    box.className = "nnp-print-grid";
    cells(explorer).forEach(function (cell) {
      var figure = document.createElement("figure");
      var img = document.createElement("img");
      img.src = "data:image/png;base64," + explorer.frames[cell.key];
      img.alt = alt;
      var caption = document.createElement("figcaption");
      if (cell.preset) {
        var name = document.createElement("span");
        name.className = "nnp-print-preset";
        name.textContent = cell.preset;
        caption.appendChild(name);
        caption.appendChild(document.createTextNode(": "));
      }
      caption.appendChild(document.createTextNode(cell.values));
      figure.appendChild(img);
      figure.appendChild(caption);
      box.appendChild(figure);
    });
    var note = document.createElement("p");
    note.className = "nnp-print-note";
    note.textContent = explorer.presets.length
      ? "The explorer at its presets; the book online and the notebook have the sliders."
      : "The explorer at a few settings; the book online and the notebook have the sliders.";
    box.appendChild(note);
    root.appendChild(box);
    return box;
  }

  // The parts of the table of contents (the sidebar's captions) as headings before their chapters:
  // the single page holds one toctree-wrapper per caption, in the same order.
  window.nnpPrintParts = function () {
    var captions = document.querySelectorAll(".bd-sidebar-primary p.caption .caption-text");
    var wrappers = document.querySelectorAll(".bd-article div.toctree-wrapper");
    if (!captions.length || captions.length !== wrappers.length) { return []; }
    var parts = [];
    wrappers.forEach(function (wrapper, k) {
      if (wrapper.previousElementSibling && wrapper.previousElementSibling.classList.contains("nnp-print-part")) { return; }
      var heading = document.createElement("h2");
      heading.className = "nnp-print-part";
      heading.textContent = captions[k].textContent.trim();
      wrapper.parentNode.insertBefore(heading, wrapper);
      parts.push(heading.textContent);
    });
    return parts;
  };

  window.nnpPrintGrids = function () {
    var report = [];
    document.querySelectorAll("div.nnp-explorer").forEach(function (root) {
      if (root.classList.contains("nnp-live-only")) {
        report.push({title: root.textContent.trim().slice(0, 80), error: "a live-only explorer has no frames"});
        return;
      }
      var old = root.querySelector(":scope > .nnp-print-grid");
      if (old) { old.remove(); }
      try {
        var explorer = readExplorer(root);
        var img = root.querySelector("img.nnp-frame");
        var box = grid(root, explorer, img ? img.alt : explorer.title);
        report.push({title: explorer.title, captions: Array.prototype.map.call(
          box.querySelectorAll("figcaption"), function (c) { return c.textContent; })});
      } catch (e) {
        report.push({title: root.dataset.title || "", error: e.message});
      }
    });
    return report;
  };
})();
