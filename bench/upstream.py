"""A near-zero-cost WeChat stand-in: nginx serving bench/canned.py's replies from files.

nginx (Debian's) runs from a configuration written into a temp dir, on a free port, with
one worker, no access log and long keep-alive, so the upstream costs the gateway almost
nothing and never shapes the figures. Its static handler refuses POST (405); `error_page
405 =200 $uri` turns that into the file with status 200, the body of the POST read and
dropped. The query string (the access token) is ignored. Started as root, its worker
keeps root's identity (`user root`), so it can read the replies from a private temp dir.
"""

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from bench import canned, procs

_TEMPLATE = """\
{user}daemon off;
master_process on;
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{
    worker_connections 4096;
}}
http {{
    access_log off;
    default_type application/json;
    keepalive_requests 10000000;
    keepalive_timeout 600s;
    client_body_temp_path {root}/tmp/body;
    proxy_temp_path {root}/tmp/proxy;
    fastcgi_temp_path {root}/tmp/fastcgi;
    uwsgi_temp_path {root}/tmp/uwsgi;
    scgi_temp_path {root}/tmp/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {root}/replies;
        location / {{
            error_page 405 =200 $uri;
        }}
    }}
}}
"""


def write_site(root: Path, port: int, replies: dict[str, bytes]) -> Path:
    """nginx.conf and the reply files under `root`; returns the configuration's path."""
    for path, body in replies.items():
        file = root / "replies" / path.lstrip("/")
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(body)
    (root / "tmp").mkdir(exist_ok=True)
    user = "user root;\n" if os.geteuid() == 0 else ""
    config = root / "nginx.conf"
    config.write_text(_TEMPLATE.format(user=user, root=root, port=port))
    return config


@contextlib.contextmanager
def nginx_upstream(
    root: Path, replies: dict[str, bytes] | None = None
) -> Iterator[tuple[str, int]]:
    """nginx answering `replies` (default: the canned WeChat replies); yields (base URL, pid)."""
    binary = procs.which("nginx")
    if binary is None:
        raise RuntimeError("nginx is not installed: run scripts/install-bench-tools")
    root.mkdir(parents=True, exist_ok=True)
    port = procs.free_port()
    config = write_site(root, port, canned.wechat_replies() if replies is None else replies)
    log = root / "nginx.log"
    args = [binary, "-p", str(root), "-c", str(config), "-e", str(root / "error.log")]
    with procs.running(args, log) as process:
        procs.wait_for_port(port, process, log, timeout=10)
        yield f"http://127.0.0.1:{port}", process.pid
