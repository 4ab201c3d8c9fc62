"""The gateway's own CLI, plus a probe that reports how many asyncio tasks its loop holds.

The gateway has no debug hook that counts its tasks, so the soak starts it through this
module instead of `python -m fapiao_gateway`: the same `fapiao_gateway.cli.main`, with a
SIGUSR1 handler that writes len(asyncio.all_tasks()) to a file. Python runs signal handlers
in the main thread, which is the event loop's, so the running loop is at hand.

    python -m bench.task_probe COUNT_FILE serve --config FILE
"""

import asyncio
import os
import signal
import sys
from pathlib import Path
from types import FrameType

from fapiao_gateway.cli import main as gateway_main


def install(count_file: Path) -> None:
    """On SIGUSR1, writes the running loop's task count (-1: no loop running) to count_file."""

    def report(_signum: int, _frame: FrameType | None) -> None:
        try:
            count = len(asyncio.all_tasks(asyncio.get_running_loop()))
        except RuntimeError:
            count = -1
        partial = count_file.with_suffix(".partial")
        partial.write_text(f"{count}\n")
        os.replace(partial, count_file)

    signal.signal(signal.SIGUSR1, report)


def main() -> None:
    install(Path(sys.argv[1]))
    gateway_main(sys.argv[2:])


if __name__ == "__main__":
    main()
