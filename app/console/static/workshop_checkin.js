/* Workshop check-in at the door: every feature here is an enhancement; the page works
   without it (the search is a GET form, the code a POST form). */
"use strict";

/* Hide the people whose name or address does not contain what is typed, while typing. */
function filterAsYouType(input) {
  const list = document.querySelector(input.dataset.filter);
  const none = document.getElementById("door-none");
  if (!list) {
    return;
  }
  const rows = Array.from(list.querySelectorAll("li[data-search]"));
  const update = () => {
    const words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    let shown = 0;
    rows.forEach((row) => {
      const match = words.every((word) => row.dataset.search.includes(word));
      row.hidden = !match;
      shown += match ? 1 : 0;
    });
    if (none) {
      none.hidden = shown > 0;
    }
  };
  input.addEventListener("input", update);
  update();
}

/* Read QR codes with the camera where the browser can (BarcodeDetector), then send the
   payload as if it were typed. */
function cameraScanning(form) {
  const button = document.getElementById("scan");
  const video = document.getElementById("scanner");
  const status = document.getElementById("scan-status");
  const field = form.querySelector("input[name=code]");
  if (!("BarcodeDetector" in window) || !navigator.mediaDevices || !button || !video) {
    return;
  }
  let stream = null;
  const stop = () => {
    if (stream) {
      stream.getTracks().forEach((track) => track.stop());
      stream = null;
    }
    video.hidden = true;
  };
  const scan = async (detector) => {
    if (!stream) {
      return;
    }
    try {
      const codes = await detector.detect(video);
      if (codes.length > 0) {
        field.value = codes[0].rawValue;
        stop();
        form.submit();
        return;
      }
    } catch (error) {
      /* A frame that cannot be read yet: try the next one. */
    }
    window.requestAnimationFrame(() => scan(detector));
  };
  window.BarcodeDetector.getSupportedFormats().then((formats) => {
    if (!formats.includes("qr_code")) {
      return;
    }
    const detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    button.hidden = false;
    button.addEventListener("click", async () => {
      if (stream) {
        stop();
        return;
      }
      try {
        stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
      } catch (error) {
        status.hidden = false;
        status.textContent = button.dataset.denied || error.message;
        return;
      }
      video.srcObject = stream;
      video.hidden = false;
      await video.play();
      scan(detector);
    });
  });
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("input[data-filter]").forEach(filterAsYouType);
  const codeForm = document.querySelector("form.code-form");
  if (codeForm) {
    cameraScanning(codeForm);
  }
});
