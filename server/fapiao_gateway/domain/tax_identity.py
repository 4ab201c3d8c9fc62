"""An invoice's tax identity: what makes it one fapiao in the national tax system, whatever
WeChat card, account or platform it reaches the company through.

A fully digital invoice (全电/数电发票) is identified by its 20-digit number alone (it has no
invoice code, or one that adds nothing); every other e-invoice by its invoice code (发票代码)
and number (发票号码) together. An invoice lacking either has no identity the gateway can
key on, and the company-wide duplicate guard cannot cover it.
"""

import re

#: A fully digital invoice's number: 20 digits, unique nationwide on its own.
_DIGITAL_NUMBER = re.compile(r"\d{20}")


def tax_identity(invoice_code: str, invoice_number: str) -> str | None:
    """The key the duplicate guard and cross-account search use: "<number>" for a fully
    digital invoice, "<code>:<number>" otherwise; None when the invoice lacks the parts."""
    code, number = invoice_code.strip(), invoice_number.strip()
    if _DIGITAL_NUMBER.fullmatch(number):
        return number
    if code and number:
        return f"{code}:{number}"
    return None
