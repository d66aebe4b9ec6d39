// The repair page's quote builder: row amounts and the total follow what is typed, so the
// "Calculate" post-back is only needed without JavaScript. The server adds it up again.
(function () {
  "use strict";

  var lang = document.documentElement.lang || "ja";

  function yen(amount) {
    var digits = amount.toLocaleString("en-US");
    return lang === "ja" ? digits + "円" : "¥" + digits;
  }

  // Full-width digits, commas, yen signs and Japanese minus signs, as the server reads them.
  function number(text) {
    var value = (text || "")
      .replace(/[０-９]/g, function (d) { return String.fromCharCode(d.charCodeAt(0) - 0xfee0); })
      .replace(/[,，¥￥円\s]/g, "")
      .replace(/[ー−‐－–—]/g, "-");
    if (value === "") return null;
    return /^-?\d+$/.test(value) ? parseInt(value, 10) : NaN;
  }

  function rowAmount(row) {
    var qty = number((row.querySelector("[data-qty]") || {}).value);
    if (qty === null) qty = 1;
    var price = null;
    var select = row.querySelector("[data-item]");
    if (select) {
      var option = select.options[select.selectedIndex];
      price = option && option.dataset.price ? parseInt(option.dataset.price, 10) : null;
    } else {
      price = number((row.querySelector("[data-price]") || {}).value);
    }
    if (price === null || isNaN(price) || isNaN(qty) || price < 0 || qty < 1) return null;
    return price * qty;
  }

  function update(form) {
    var total = 0;
    form.querySelectorAll("[data-row]").forEach(function (row) {
      var amount = rowAmount(row);
      var out = row.querySelector("[data-amount]");
      if (out) out.textContent = amount === null ? "" : yen(amount);
      if (amount !== null) total += amount;
    });
    var sum = form.querySelector("[data-total]");
    if (sum) sum.textContent = yen(total);
  }

  document.querySelectorAll("form.rp-quote").forEach(function (form) {
    form.addEventListener("input", function () { update(form); });
    form.addEventListener("change", function () { update(form); });
    var calculate = form.querySelector("[data-calculate]");
    if (calculate) calculate.hidden = true;
    update(form);
  });
})();
