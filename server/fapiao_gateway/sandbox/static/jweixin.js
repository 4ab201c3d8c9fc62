// Sandbox stand-in for WeChat's JS-SDK (jweixin): served only by a gateway in sandbox mode.
// wx.config is verified by the sandbox against its jsapi ticket; chooseInvoice's cardSign
// against its wx_card ticket; the picker lists the sandbox's invoices.
(function () {
  "use strict";
  var readyCallbacks = [];
  var errorCallbacks = [];
  var state = "pending";
  var configured = null;

  function post(path, body) {
    return fetch(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })
      .then(function (r) { return r.json(); });
  }

  function settle(outcome, detail) {
    state = outcome;
    (outcome === "ready" ? readyCallbacks : errorCallbacks).forEach(function (cb) { cb(detail); });
  }

  function yuan(fen) { return "¥" + (Number(fen || 0) / 100).toFixed(2); }

  function picker(invoices, done) {
    var backdrop = document.createElement("div");
    backdrop.className = "sbx-backdrop";
    backdrop.innerHTML =
      '<div class="sbx-sheet" role="dialog" aria-modal="true" aria-labelledby="sbx-title">' +
      '<div class="sbx-head"><strong id="sbx-title">选择发票（沙箱）</strong><span>Sandbox card package</span></div>' +
      '<ul class="sbx-list"></ul>' +
      '<div class="sbx-actions"><button type="button" class="sbx-cancel">取消 Cancel</button>' +
      '<button type="button" class="sbx-ok" disabled>确定 Done</button></div></div>';
    var list = backdrop.querySelector(".sbx-list");
    invoices.forEach(function (invoice, index) {
      var item = document.createElement("li");
      var id = "sbx-pick-" + index;
      item.innerHTML = '<input type="checkbox"><label></label>';
      var box = item.querySelector("input");
      box.id = id;
      box.dataset.index = String(index);
      var label = item.querySelector("label");
      label.htmlFor = id;
      label.textContent = invoice.title + " · " + yuan(invoice.fee) + " · " + invoice.payee +
        " · No." + invoice.number + (invoice.status === "INVOICE_REIMBURSE_INIT" ? "" : " · " + invoice.status.replace("INVOICE_REIMBURSE_", ""));
      item.dataset.cardId = invoice.card_id;
      item.dataset.encryptCode = invoice.encrypt_code;
      list.appendChild(item);
    });
    var ok = backdrop.querySelector(".sbx-ok");
    list.addEventListener("change", function () {
      ok.disabled = !list.querySelector("input:checked");
    });
    function close(result) {
      document.body.removeChild(backdrop);
      done(result);
    }
    backdrop.querySelector(".sbx-cancel").addEventListener("click", function () {
      close({ err_msg: "chooseInvoice:cancel" });
    });
    ok.addEventListener("click", function () {
      var picked = Array.prototype.map.call(list.querySelectorAll("input:checked"), function (box) {
        var invoice = invoices[Number(box.dataset.index)];
        return { card_id: invoice.card_id, encrypt_code: invoice.encrypt_code, app_id: configured.appId };
      });
      close({ err_msg: "chooseInvoice:ok", choose_invoice_info: JSON.stringify(picked) });
    });
    document.body.appendChild(backdrop);
    backdrop.querySelector("input").focus();
  }

  var style = document.createElement("link");
  style.rel = "stylesheet";
  style.href = "/sandbox/static/jweixin.css";
  document.head.appendChild(style);

  window.wx = {
    sandbox: true,
    config: function (options) {
      configured = options;
      post("/sandbox/jssdk/config", {
        appId: options.appId, timestamp: options.timestamp, nonceStr: options.nonceStr,
        signature: options.signature, url: location.href.split("#")[0],
      }).then(function (answer) {
        if (answer.errMsg === "config:ok") settle("ready");
        else settle("error", answer);
      }, function () { settle("error", { errMsg: "config:fail network" }); });
    },
    ready: function (cb) { if (state === "ready") cb(); else readyCallbacks.push(cb); },
    error: function (cb) { if (state === "error") cb(); else errorCallbacks.push(cb); },
    invoke: function (name, args, cb) {
      if (name !== "chooseInvoice" || state !== "ready") {
        cb({ err_msg: name + ":fail not configured" });
        return;
      }
      post("/sandbox/jssdk/choose", {
        appId: configured.appId, timestamp: args.timestamp, nonceStr: args.nonceStr,
        signType: args.signType, cardSign: args.cardSign,
      }).then(function (answer) {
        if (answer.errMsg !== "chooseInvoice:ok") cb({ err_msg: answer.errMsg });
        else picker(answer.invoices, cb);
      }, function () { cb({ err_msg: "chooseInvoice:fail network" }); });
    },
  };
})();
