// Every error a page can meet, in Chinese and English: by ErrorInfo.reason, else by code.
const BY_REASON = {
  IMPORT_SESSION_EXPIRED: ["二维码已过期，请在电脑上重新生成。", "This QR code has expired: generate a new one on the computer."],
  IMPORT_TICKET_EXPIRED: ["本次导入已过期，请在电脑上重新生成二维码。", "This import session has expired: generate a new QR code on the computer."],
  IMPORT_TICKET_INVALID: ["链接无效，请重新扫描电脑上的二维码。", "This link is not valid: scan the QR code on the computer again."],
  IMPORT_TICKET_OUT_OF_SCOPE: ["此链接无权执行该操作。", "This link does not allow that."],
  IMPORT_SESSION_NOT_FOUND: ["找不到这次导入，请重新生成二维码。", "This import was not found: generate a new QR code."],
  INVOICE_ALREADY_IMPORTED: ["发票已在其他报销单中。", "An invoice is already in another expense report."],
  INVOICE_NOT_REIMBURSABLE: ["发票已报销、已作废或已不在卡包中，无法导入。", "An invoice has been reimbursed, cancelled or is no longer in the card package."],
  INVOICE_NOT_FOUND: ["微信找不到该发票。", "WeChat does not know one of the invoices."],
  INVOICE_NOT_LOCKABLE: ["发票当前状态无法锁定。", "An invoice cannot be locked in its current state."],
  INVOICE_LOCKED_BY_OTHER_ACCOUNT: ["发票已被其他公众号锁定。", "Another account has locked an invoice."],
  INVOICE_CHANGE_IN_PROGRESS: ["发票正在处理中，请稍后重试。", "An invoice is being changed: try again in a moment."],
  REQUEST_IN_PROGRESS: ["请求正在处理中，请稍后重试。", "The request is still running: try again in a moment."],
  INVALID_REQUEST_FIELDS: ["请求内容有误。", "The request is not valid."],
  WECHAT_BUSY: ["微信繁忙，请稍后重试。", "WeChat is busy: try again in a moment."],
  INVOICE_BUSY: ["发票正忙，请稍后重试。", "The invoice is busy: try again in a moment."],
  WECHAT_RATE_LIMITED: ["请求过于频繁，请一分钟后重试。", "Too many requests: try again in a minute."],
  WECHAT_DAILY_QUOTA_EXCEEDED: ["今日调用次数已用完。", "Today's WeChat quota is used up."],
  CALLER_QUOTA_EXCEEDED: ["请求过于频繁，请稍后重试。", "Too many requests: try again shortly."],
  CREDENTIAL_INVALID: ["身份验证失败。", "Authentication failed."],
  NETWORK: ["网络连接失败，请检查网络后重试。", "The network failed: check the connection and try again."],
  WX_CONFIG: ["微信签名校验失败。", "WeChat refused the page signature."],
  WX_CANCEL: ["已取消选择。", "You cancelled the selection."],
  NO_TICKET: ["链接不完整，请重新扫描二维码。", "The link is incomplete: scan the QR code again."],
};
const BY_CODE = {
  invalid_argument: ["请求内容有误。", "The request is not valid."],
  unauthenticated: ["身份验证失败。", "Authentication failed."],
  permission_denied: ["没有权限。", "Not allowed."],
  not_found: ["未找到。", "Not found."],
  already_exists: ["已存在。", "Already exists."],
  failed_precondition: ["当前状态不允许该操作。", "Not possible in the current state."],
  aborted: ["操作冲突，请重试。", "A conflict: try again."],
  resource_exhausted: ["请求过多，请稍后重试。", "Too many requests: try again later."],
  unavailable: ["服务暂不可用，请稍后重试。", "The service is unavailable: try again later."],
  deadline_exceeded: ["请求超时，请重试。", "The request timed out: try again."],
  internal: ["服务出错，请稍后重试。", "Something went wrong: try again later."],
};

export function explain(error) {
  const pair = BY_REASON[error.reason] || BY_CODE[error.code] || BY_CODE.internal;
  return { zh: pair[0], en: pair[1], reason: error.reason || error.code || "" };
}

export function renderError(element, error) {
  const { zh, en, reason } = explain(error);
  element.replaceChildren();
  const strong = document.createElement("p");
  strong.className = "error-zh";
  strong.textContent = zh;
  const small = document.createElement("p");
  small.className = "error-en";
  small.lang = "en";
  small.textContent = en;
  element.append(strong, small);
  if (reason) {
    const code = document.createElement("code");
    code.textContent = reason;
    element.append(code);
  }
  element.hidden = false;
}
