"""Where the adapter meets the use cases: the one place a failure gets its context.

Everything below (transport, retries, tokens) reports failures without knowing which
account or invoice the call was for; every public method of the adapter runs inside
`wechat_call`, which turns an errcode into the domain error and adds account, API and invoice
to whatever else failed (on a copy: one failure can reach several callers at once, e.g. a
shared token fetch). Nothing threads `ref=` down to the HTTP layer.
"""

import contextlib
from collections.abc import Iterator

from fapiao_gateway.domain.errors import GatewayError
from fapiao_gateway.domain.invoice import InvoiceRef
from fapiao_gateway.wechat.errcodes import WeChatRefused, to_error
from fapiao_gateway.wechat.platforms import Api


@contextlib.contextmanager
def wechat_call(appid: str, api: Api, ref: InvoiceRef | None = None) -> Iterator[None]:
    """Gives whatever fails inside the facts of this call."""
    try:
        yield
    except WeChatRefused as refused:
        error = to_error(
            refused.errcode,
            refused.errmsg,
            account=appid,
            api=refused.api,
            ref=ref,
            row=refused.row,
        )
        error.maybe_applied = refused.maybe_applied
        raise error from None
    except GatewayError as failed:
        error = failed.copy().about(account=appid, ref=ref, wechat_api=api.value)
        raise error from None
