/*
 * Reverse staff pages: small enhancements on top of pages that work without script.
 *  - photos open large in a dialog (links open the file in a new tab without script)
 *  - the call-centre form shows only the fields that apply to the choices made
 *  - a copy button for the customer's private link
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

  lightbox();
  filing();
  copyButtons();
})();
