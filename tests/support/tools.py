"""The operator tools tests drive the gateway with: grpcurl and buf curl, as real processes."""

import asyncio
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GRPCURL = shutil.which("grpcurl") or str(Path(sys.executable).parent / "grpcurl")
BUF = str(ROOT / "node_modules" / ".bin" / "buf")


async def _run(*command: str) -> tuple[int, str]:
    """Runs a command without blocking the event loop a server may run on: (code, output)."""
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await asyncio.wait_for(process.communicate(), 30)
    return process.returncode or 0, out.decode()


async def grpcurl(*args: str) -> tuple[int, str]:
    """`grpcurl ARGS`: its exit code and output."""
    return await _run(GRPCURL, *args)


async def buf_curl(*args: str) -> tuple[int, str]:
    """`buf curl ARGS` over plaintext gRPC: its exit code and output."""
    return await _run(BUF, "curl", "--protocol", "grpc", "--http2-prior-knowledge", *args)
