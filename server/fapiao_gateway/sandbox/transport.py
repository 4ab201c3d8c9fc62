"""Talking to the sandbox in process: httpx over ASGI, with dropped connections kept real.

httpx.ASGITransport re-raises whatever the app raised; a sandbox "drop" fault must instead
look like the network failure it stands for, so it is turned into httpx.RemoteProtocolError.
"""

import httpx

from fapiao_gateway.sandbox.app import ConnectionDropped, Sandbox, create_app


class _DroppingASGITransport(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.ASGITransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await self._inner.handle_async_request(request)
        except ConnectionDropped as exc:
            raise httpx.RemoteProtocolError(str(exc), request=request) from exc


def in_process_transport(sandbox: Sandbox) -> httpx.AsyncBaseTransport:
    """An httpx transport that reaches `sandbox` without a socket."""
    return _DroppingASGITransport(httpx.ASGITransport(app=create_app(sandbox)))


#: The base URL accounts use with the in-process transport (any host would do).
IN_PROCESS_BASE_URL = "http://wechat-sandbox.invalid"
