/* sijil verifier page: QR scanning with the camera (or a photo), fully offline.
 * Needs the vendored jsQR (static/vendor/jsqr/jsQR.js). No inline script: the page's CSP
 * forbids it. Without JavaScript the paste and upload forms still work. */
(function () {
  "use strict";

  var startBtn = document.getElementById("scan-start");
  var stopBtn = document.getElementById("scan-stop");
  var photoLabel = document.getElementById("scan-photo-label");
  var photoInput = document.getElementById("scan-photo");
  var view = document.getElementById("scan-view");
  var video = document.getElementById("scan-video");
  var canvas = document.getElementById("scan-canvas");
  var statusEl = document.getElementById("scan-status");
  var pasteForm = document.getElementById("paste-form");
  var pasteText = document.getElementById("credential-text");
  if (!startBtn || !canvas) { return; }

  var stream = null;
  var scanning = false;
  var ctx = canvas.getContext("2d", { willReadFrequently: true });

  function say(text) { statusEl.textContent = text; }

  /* What a scanned QR code means: a link to this verifier is opened as is, any other web
   * link is checked through /verify?url=, and a credential's text is submitted as pasted. */
  function handleCode(text) {
    text = (text || "").trim();
    if (!text) { return false; }
    var url = null;
    try { url = new URL(text); } catch (e) { url = null; }
    if (url && (url.protocol === "https:" || url.protocol === "http:")) {
      if (url.origin === window.location.origin && url.pathname === "/verify") {
        window.location.assign(url.href);
      } else if (url.searchParams.has("c") || url.searchParams.has("url")) {
        /* A verification link for another deployment of this verifier: check it here. */
        window.location.assign("/verify?" + url.searchParams.toString());
      } else {
        window.location.assign("/verify?url=" + encodeURIComponent(url.href));
      }
      return true;
    }
    if (text.charAt(0) === "{" || text.indexOf("ey") === 0) {
      pasteText.value = text;
      pasteForm.submit();
      return true;
    }
    say("The QR code does not hold a credential link: " + text.slice(0, 80) +
        " / Kod QR ini tiada pautan kredensial.");
    return false;
  }

  function decodeImageData(imageData) {
    if (typeof window.jsQR !== "function") { return null; }
    var found = window.jsQR(imageData.data, imageData.width, imageData.height,
                            { inversionAttempts: "attemptBoth" });
    return found ? found.data : null;
  }

  function stop() {
    scanning = false;
    if (stream) {
      stream.getTracks().forEach(function (t) { t.stop(); });
      stream = null;
    }
    video.srcObject = null;
    view.hidden = true;
    stopBtn.hidden = true;
    startBtn.hidden = false;
  }

  function tick() {
    if (!scanning) { return; }
    if (video.readyState === video.HAVE_ENOUGH_DATA && video.videoWidth > 0) {
      var scale = Math.min(1, 800 / Math.max(video.videoWidth, video.videoHeight));
      canvas.width = Math.round(video.videoWidth * scale);
      canvas.height = Math.round(video.videoHeight * scale);
      ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
      var text = decodeImageData(ctx.getImageData(0, 0, canvas.width, canvas.height));
      if (text) {
        say("QR code found, checking… / Kod QR ditemui, menyemak…");
        stop();
        if (handleCode(text)) { return; }
      }
    }
    window.requestAnimationFrame(tick);
  }

  function start() {
    say("Starting the camera… / Menghidupkan kamera…");
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false })
      .then(function (s) {
        stream = s;
        video.srcObject = s;
        view.hidden = false;
        startBtn.hidden = true;
        stopBtn.hidden = false;
        scanning = true;
        return video.play();
      })
      .then(function () {
        say("Point the camera at the QR code. / Halakan kamera ke kod QR.");
        window.requestAnimationFrame(tick);
      })
      .catch(function (err) {
        stop();
        say("The camera is not available (" + (err && err.name ? err.name : "error") +
            "). Try \u201cScan from a photo\u201d. / Kamera tidak tersedia.");
      });
  }

  function scanPhoto(file) {
    if (!file) { return; }
    say("Reading the photo… / Membaca foto…");
    var img = new Image();
    var objectUrl = URL.createObjectURL(file);
    img.onload = function () {
      var scale = Math.min(1, 1600 / Math.max(img.naturalWidth, img.naturalHeight));
      canvas.width = Math.max(1, Math.round(img.naturalWidth * scale));
      canvas.height = Math.max(1, Math.round(img.naturalHeight * scale));
      ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
      URL.revokeObjectURL(objectUrl);
      var text = decodeImageData(ctx.getImageData(0, 0, canvas.width, canvas.height));
      if (!text) {
        say("No QR code found in the photo. / Tiada kod QR ditemui dalam foto.");
        return;
      }
      handleCode(text);
    };
    img.onerror = function () {
      URL.revokeObjectURL(objectUrl);
      say("That file is not an image. / Fail itu bukan imej.");
    };
    img.src = objectUrl;
  }

  var hasCamera = !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia);
  startBtn.hidden = !hasCamera;
  photoLabel.hidden = false;
  if (!hasCamera) {
    say("Live camera scanning needs a secure (https) page; scan from a photo instead. " +
        "/ Imbas daripada foto.");
  }
  startBtn.addEventListener("click", start);
  stopBtn.addEventListener("click", function () { stop(); say(""); });
  photoInput.addEventListener("change", function () { scanPhoto(photoInput.files[0]); });
  window.addEventListener("pagehide", stop);

  /* Exposed for tests and for pages that receive a scanned text some other way. */
  window.sijilHandleScannedText = handleCode;
})();
