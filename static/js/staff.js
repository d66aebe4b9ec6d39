/*
 * Reverse staff pages: small enhancements on top of pages that work without script.
 *  - photos open large in a dialog (links open the file in a new tab without script)
 *  - the call-centre form shows only the fields that apply to the choices made
 *  - a copy button for the customer's private link
 *  - the intake screen answers every scan with a sound and a flash, and keeps the cursor in
 *    the scan field so that the desk works all day without the mouse
 */
(function () {
  "use strict";

  function lightbox() {
    var dialog = document.getElementById("lightbox");
    if (!dialog || typeof dialog.showModal !== "function") return;
    var img = dialog.querySelector("[data-lightbox-img]");
    var caption = dialog.querySelector("[data-lightbox-caption]");
    var open = dialog.querySelector("[data-lightbox-open]");
    document.addEventListener("click", function (event) {
      var link = event.target.closest("a[data-lightbox]");
      if (!link || event.ctrlKey || event.metaKey || event.shiftKey) return;
      event.preventDefault();
      img.src = link.href;
      img.alt = link.getAttribute("data-caption") || "";
      caption.textContent = link.getAttribute("data-caption") || "";
      open.href = link.href;
      dialog.showModal();
    });
    dialog.addEventListener("click", function (event) {
      if (event.target === dialog || event.target === img) dialog.close();
    });
  }

  function currentValue(form, name) {
    var fields = form.querySelectorAll("[data-drives='" + name + "']");
    for (var i = 0; i < fields.length; i++) {
      var f = fields[i];
      if (f.type === "radio") {
        if (f.checked) return f.value;
      } else {
        return f.value;
      }
    }
    return "";
  }

  function filing() {
    var form = document.querySelector("form[data-filing]");
    if (!form) return;
    function update() {
      var values = {
        type: currentValue(form, "type"),
        place: currentValue(form, "place"),
        method: currentValue(form, "method"),
      };
      form.querySelectorAll("[data-show-for]").forEach(function (el) {
        var wanted = el.getAttribute("data-values").split(" ");
        var value = values[el.getAttribute("data-show-for")];
        el.hidden = wanted.indexOf(value) === -1;
      });
      form.querySelectorAll("[data-when-checked]").forEach(function (el) {
        var box = form.querySelector(el.getAttribute("data-when-checked"));
        el.hidden = Boolean(box) && !box.checked;
      });
      form.querySelectorAll("select[data-reasons] option[data-types]").forEach(function (option) {
        var fits = !values.type || option.getAttribute("data-types").split(" ").indexOf(values.type) !== -1;
        option.hidden = !fits;
        option.disabled = !fits;
        if (!fits && option.selected) option.parentNode.value = "";
      });
    }
    form.addEventListener("change", function (event) {
      if (event.target.hasAttribute("data-drives") || event.target.type === "checkbox") update();
    });
    update();
  }

  function copyButtons() {
    document.querySelectorAll("button[data-copy]").forEach(function (button) {
      var target = document.querySelector(button.getAttribute("data-copy"));
      if (!target || !navigator.clipboard) return;
      var label = button.textContent;
      button.addEventListener("click", function () {
        navigator.clipboard.writeText(target.value).then(function () {
          button.textContent = button.getAttribute("data-copied") || label;
          setTimeout(function () { button.textContent = label; }, 2000);
        });
      });
      target.addEventListener("focus", function () { target.select(); });
    });
  }

  // One tone per answer: good = one high beep, warn = two mid beeps, bad = a long low buzz.
  var TONES = {
    good: [[1318, 0, 0.12]],
    warn: [[880, 0, 0.1], [880, 0.16, 0.1]],
    bad: [[196, 0, 0.45]]
  };

  function beep(kind) {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context || !TONES[kind]) return;
    try {
      var audio = new Context();
      TONES[kind].forEach(function (tone) {
        var osc = audio.createOscillator();
        var gain = audio.createGain();
        osc.type = kind === "bad" ? "square" : "sine";
        osc.frequency.value = tone[0];
        gain.gain.value = 0.15;
        osc.connect(gain);
        gain.connect(audio.destination);
        osc.start(audio.currentTime + tone[1]);
        osc.stop(audio.currentTime + tone[1] + tone[2]);
      });
      setTimeout(function () { audio.close(); }, 1000);
    } catch (e) {
      // no sound device: the colours still say it
    }
  }

  function intake() {
    var page = document.querySelector(".intake");
    if (!page) return;
    var kind = page.getAttribute("data-feedback");
    if (kind) {
      beep(kind);
      page.classList.add("intake--flash-" + kind);
      setTimeout(function () { page.classList.remove("intake--flash-" + kind); }, 600);
    }
    var field = page.querySelector("[data-scan-field][autofocus]") || page.querySelector("[data-scan-field]");
    if (!field) return;
    field.focus();
    field.select();
    // A click elsewhere (a photo, a link) must not leave the scanner typing into nothing.
    document.addEventListener("keydown", function (event) {
      var active = document.activeElement;
      var typing = active && /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName);
      if (!typing && event.key.length === 1 && !event.ctrlKey && !event.metaKey && !event.altKey) {
        field.focus();
      }
    });
  }

  lightbox();
  filing();
  copyButtons();
  intake();
})();
