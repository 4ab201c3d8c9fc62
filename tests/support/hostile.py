"""A raw HTTP/2 client for what well-behaved gRPC clients never send: calls that are never
finished, and headers that are not valid text. Built on h2 (hyper-h2), so the frames are
exactly what the test says."""

import asyncio
import contextlib
from collections.abc import Callable, Sequence

import h2.config
import h2.connection
import h2.events


def _headers(
    host: str, path: str, extra: Sequence[tuple[bytes, bytes]]
) -> list[tuple[bytes, bytes]]:
    return [
        (b":method", b"POST"),
        (b":scheme", b"http"),
        (b":authority", host.encode()),
        (b":path", path.encode()),
        (b"content-type", b"application/grpc"),
        (b"te", b"trailers"),
        *extra,
    ]


class RawConnection:
    """One HTTP/2 connection that sends frames as it is told."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str
    ) -> None:
        self.reader, self.writer, self.host = reader, writer, host
        config = h2.config.H2Configuration(
            client_side=True, validate_outbound_headers=False, normalize_outbound_headers=False
        )
        self.h2 = h2.connection.H2Connection(config)
        self.h2.initiate_connection()
        self.ended: dict[int, list[tuple[bytes, bytes]]] = {}
        self.reset: set[int] = set()

    @classmethod
    async def open(cls, address: str) -> "RawConnection":
        host, port = address.rsplit(":", 1)
        reader, writer = await asyncio.open_connection(host, int(port))
        connection = cls(reader, writer, address)
        await connection.flush()
        return connection

    async def flush(self) -> None:
        self.writer.write(self.h2.data_to_send())
        await self.writer.drain()

    async def start_calls(
        self, path: str, count: int, extra: Sequence[tuple[bytes, bytes]] = ()
    ) -> None:
        """`count` calls whose headers are sent and whose request message never is."""
        for _ in range(count):
            stream = self.h2.get_next_available_stream_id()
            self.h2.send_headers(stream, _headers(self.host, path, extra))
        await self.flush()

    async def call(
        self, path: str, extra: Sequence[tuple[bytes, bytes]], message: bytes, wait: float = 5
    ) -> list[tuple[bytes, bytes]]:
        """One complete call; the headers and trailers it ended with."""
        stream = self.h2.get_next_available_stream_id()
        self.h2.send_headers(stream, _headers(self.host, path, extra))
        self.h2.send_data(
            stream, b"\x00" + len(message).to_bytes(4, "big") + message, end_stream=True
        )
        await self.flush()
        await self.read(until=lambda: stream in self.ended or stream in self.reset, wait=wait)
        return self.ended.get(stream, [])

    async def read(self, until: Callable[[], bool], wait: float) -> None:
        headers: dict[int, list[tuple[bytes, bytes]]] = {}
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while not until() and loop.time() < deadline:
            try:
                data = await asyncio.wait_for(self.reader.read(65536), deadline - loop.time())
            except TimeoutError:
                return
            if not data:
                return
            for event in self.h2.receive_data(data):
                if isinstance(event, h2.events.ResponseReceived | h2.events.TrailersReceived):
                    headers.setdefault(event.stream_id, []).extend(event.headers)
                if isinstance(event, h2.events.StreamEnded):
                    self.ended[event.stream_id] = headers.get(event.stream_id, [])
                if isinstance(event, h2.events.StreamReset):
                    self.reset.add(event.stream_id)
            await self.flush()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()
