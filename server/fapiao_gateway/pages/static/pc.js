import { call, stream, fragmentParam, yuan } from "/import/static/connect.js";
import { renderError } from "/import/static/messages.js";

const ticket = fragmentParam("ticket");
const $ = (id) => document.getElementById(id);
let total = 0;
let count = 0;
let expiresAt = 0;
let ended = false;

function showInvoice(imported) {
  const invoice = imported.invoice || {};
  const item = document.createElement("li");
  item.className = "invoice";
  item.dataset.cardId = (invoice.ref || {}).cardId || "";
  item.dataset.encryptCode = (invoice.ref || {}).encryptCode || "";
  const title = document.createElement("span");
  title.className = "title";
  title.textContent = invoice.title || "—";
  const amount = document.createElement("span");
  amount.className = "amount";
  amount.textContent = yuan(invoice.totalFen);
  const number = document.createElement("span");
  number.className = "meta";
  number.textContent = `发票号码 No. ${invoice.invoiceNumber || "—"}`;
  const seller = document.createElement("span");
  seller.className = "meta";
  seller.textContent = invoice.payee || "";
  item.append(title, amount, number, seller);
  $("invoices").append(item);
  $("empty").hidden = true;
  total += Number(invoice.totalFen || 0);
  count += 1;
  $("count").textContent = String(count);
  $("sum").textContent = yuan(total);
  $("state").textContent = "正在接收 · Receiving";
}

function end() {
  if (ended) return;
  ended = true;
  $("qr").classList.add("expired");
  const overlay = document.createElement("div");
  overlay.className = "overlay";
  overlay.innerHTML = "<strong>二维码已过期</strong><span lang=\"en\">This QR code has expired</span>";
  $("qr").append(overlay);
  $("countdown").textContent = "00:00";
  $("state").textContent = "已结束 · Ended";
  $("state").classList.add("ended");
  $("ended").textContent = `导入已结束，共 ${count} 张发票。 Import session ended: ${count} invoice(s).`;
  $("ended").hidden = false;
  $("open-link").hidden = true;
}

function tick() {
  const left = Math.max(0, Math.round((expiresAt - Date.now()) / 1000));
  $("countdown").textContent = `${String(Math.floor(left / 60)).padStart(2, "0")}:${String(left % 60).padStart(2, "0")}`;
  if (left === 0) end();
  else setTimeout(tick, 1000);
}

async function main() {
  if (!ticket) {
    renderError($("error"), { reason: "NO_TICKET" });
    return;
  }
  let session;
  try {
    const answer = await fetch("/import/session", { method: "POST", headers: { authorization: `Ticket ${ticket}` } });
    session = await answer.json();
    if (!answer.ok) throw Object.assign(new Error(session.message), { code: session.code, reason: session.reason });
  } catch (failure) {
    renderError($("error"), failure);
    return;
  }
  $("qr").innerHTML = session.svg;
  $("qr").dataset.url = session.url;
  $("open-link").href = session.url;
  $("open-link").hidden = false;
  $("biz").textContent = session.bizCode;
  expiresAt = Date.parse(session.expireTime);
  tick();
  try {
    await stream("WatchImport", { account: session.account, bizCode: session.bizCode }, ticket, (message) => {
      if (message.invoice) showInvoice(message.invoice);
    });
    end();
  } catch (failure) {
    if (failure.reason === "IMPORT_TICKET_EXPIRED") end();
    else renderError($("error"), failure);
  }
}

main();
