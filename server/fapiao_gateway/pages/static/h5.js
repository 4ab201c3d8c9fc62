import { call, fragmentParam, yuan } from "/import/static/connect.js";
import { renderError } from "/import/static/messages.js";

const $ = (id) => document.getElementById(id);
const query = new URLSearchParams(location.search);
const bizCode = query.get("bizCode") || "";
const appid = query.get("appid") || "";
const ticket = fragmentParam("ticket");
let signature = null;

function fail(error) {
  renderError($("error"), error);
  $("pick").disabled = false;
  $("pick").textContent = "重新选择 · Pick again";
}

function newRequestId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function showImported(list) {
  const target = $("imported");
  for (const imported of list) {
    const invoice = imported.invoice || {};
    const item = document.createElement("li");
    item.className = "invoice";
    item.innerHTML = "<span class=title></span><span class=amount></span><span class=meta></span><span class=meta></span>";
    item.children[0].textContent = invoice.title || "—";
    item.children[1].textContent = yuan(invoice.totalFen);
    item.children[2].textContent = `发票号码 No. ${invoice.invoiceNumber || "—"}`;
    item.children[3].textContent = invoice.payee || "";
    target.append(item);
  }
  $("result").hidden = false;
}

async function importPicks(picks) {
  $("pick").disabled = true;
  $("pick").textContent = "正在导入… Importing…";
  try {
    const answer = await call("ImportInvoices", {
      account: appid,
      bizCode,
      requestId: newRequestId(),
      invoices: picks.map((p) => ({ cardId: p.card_id, encryptCode: p.encrypt_code })),
    }, ticket);
    $("error").hidden = true;
    showImported(answer.invoices || []);
    $("pick").disabled = false;
    $("pick").textContent = "继续选择 · Pick more";
  } catch (failure) {
    fail(failure);
  }
}

function choose() {
  $("error").hidden = true;
  const sign = signature.chooseInvoice;
  wx.invoke("chooseInvoice", {
    timestamp: Number(sign.timestamp),
    nonceStr: sign.nonceStr,
    signType: sign.signType,
    cardSign: sign.cardSign,
  }, (res) => {
    const message = (res && (res.err_msg || res.errMsg)) || "";
    if (!/:ok$/.test(message)) {
      fail({ reason: /cancel/.test(message) ? "WX_CANCEL" : "WX_CONFIG", code: "" });
      return;
    }
    let picks = res.choose_invoice_info || res.chooseInvoiceInfo || [];
    if (typeof picks === "string") picks = JSON.parse(picks);
    if (picks.length) importPicks(picks);
  });
}

async function main() {
  $("biz").textContent = bizCode;
  if (!ticket || !bizCode || !appid) {
    renderError($("error"), { reason: "NO_TICKET" });
    $("pick").textContent = "无法继续 · Cannot continue";
    return;
  }
  try {
    signature = await call("SignJsapi", {
      account: appid,
      purposes: ["SIGN_PURPOSE_WX_CONFIG", "SIGN_PURPOSE_CHOOSE_INVOICE"],
      url: location.href.split("#")[0],
    }, ticket);
  } catch (failure) {
    fail(failure);
    return;
  }
  const config = signature.wxConfig;
  wx.config({
    debug: false,
    appId: config.appId,
    timestamp: Number(config.timestamp),
    nonceStr: config.nonceStr,
    signature: config.signature,
    jsApiList: ["chooseInvoice"],
  });
  wx.ready(() => {
    $("pick").disabled = false;
    $("pick").textContent = "选择发票 · Pick invoices";
  });
  wx.error(() => fail({ reason: "WX_CONFIG", code: "" }));
  $("pick").addEventListener("click", choose);
}

main();
