"""Downloading an invoice's documents from the URLs WeChat lends (pdf_url, trip_pdf_url),
through the same HTTP transport as the API calls (so the in-process sandbox serves them too).
No token is involved: the URL itself is the credential, so it is never logged."""

from urllib.parse import parse_qsl, urlsplit, urlunsplit

from fapiao_gateway.domain.documents import DocumentFetchFailed as DocumentFetchError
from fapiao_gateway.wechat.transport import HttpRequest, Transport, TransportError


class DocumentFetcher:
    """services.ports.DocumentSource over a Transport."""

    def __init__(self, transport: Transport, *, timeout: float, max_bytes: int) -> None:
        self._transport = transport
        self._timeout = timeout
        self._max_bytes = max_bytes

    async def download(self, url: str) -> bytes:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise DocumentFetchError("INVALID_DOCUMENT_URL", final=True)
        try:
            # The query goes as params: every Transport builds the URL from base and params.
            base = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
            request = HttpRequest("GET", base, params=dict(parse_qsl(parts.query)))
            reply = await self._transport.send(request, timeout=self._timeout)
        except TransportError as failed:
            raise DocumentFetchError(
                "DOCUMENT_FETCH_TIMEOUT" if failed.timed_out else "DOCUMENT_UNREACHABLE"
            ) from None
        if reply.status != 200:
            raise DocumentFetchError(f"DOCUMENT_HTTP_{reply.status}")
        if len(reply.body) > self._max_bytes:
            raise DocumentFetchError("DOCUMENT_TOO_LARGE", final=True)
        return reply.body
