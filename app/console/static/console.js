/* Living Lab console: small enhancements; every page works without this file. */
"use strict";

/* Campaign form: show one empty phase row at a time, with a button to add the next. */
function enhancePhaseRows(editor) {
  const button = editor.querySelector("button.add-phase");
  const spare = Array.from(editor.querySelectorAll(".phase[data-spare]"));
  if (!button || spare.length < 2) {
    return;
  }
  spare.slice(1).forEach((row) => { row.hidden = true; });
  button.hidden = false;
  button.addEventListener("click", () => {
    const next = spare.find((row) => row.hidden);
    if (next) {
      next.hidden = false;
      const first = next.querySelector("input");
      if (first) {
        first.focus();
      }
    }
    if (!spare.some((row) => row.hidden)) {
      button.hidden = true;
    }
  });
}

/* Translated fields: mark a language "missing" while another language of the field has text. */
function trackMissingTranslations(fieldset) {
  const boxes = Array.from(fieldset.querySelectorAll(":scope > .side-by-side > .lang"));
  const fieldOf = (box) => box.querySelector("input, textarea");
  const update = () => {
    const written = boxes.some((box) => fieldOf(box).value.trim() !== "");
    boxes.forEach((box) => {
      const missing = written && fieldOf(box).value.trim() === "";
      box.classList.toggle("missing", missing);
      const badge = box.querySelector(".badge-missing");
      if (badge) {
        badge.hidden = !missing;
      }
    });
  };
  boxes.forEach((box) => fieldOf(box).addEventListener("input", update));
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll(".phases-editor").forEach(enhancePhaseRows);
  document.querySelectorAll("fieldset.translated").forEach(trackMissingTranslations);
});
