"""The Fapiao gateway's Python client, beside the generated `fapiao.v1` messages and stubs.

- `fapiao_client.channel` / `aio_channel`: channels with the key, deadline and retry policy
  callers should use, raising typed exceptions;
- `fapiao_client.errors`: those exceptions (`InvalidArgument`, `FailedPrecondition`,
  `Unavailable`, ...), with the error details as attributes.
"""

from fapiao_client import errors
from fapiao_client.channel import RetryPolicy, aio_channel, channel

__all__ = ["RetryPolicy", "aio_channel", "channel", "errors"]
