"""nginx with the checked-in server block (docker/nginx/), outside docker.

The suite (tests/docker/test_nginx.py) and the load test run the same
template that the nginx image renders in compose, with their own port,
published folder and upstream, under a private prefix so that nothing of the
system's nginx is read or written.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent.parent / "docker" / "nginx" / "commission.conf.template"
VARIABLES = ("NGINX_PORT", "PUBLISH_ROOT", "DJANGO_UPSTREAM", "NGINX_RESOLVER")


def render(values: dict[str, str]) -> str:
    """The template with ``${NAME}`` replaced for the names it declares, as
    the image's envsubst does; nginx's own ``$variables`` stay."""
    missing = set(VARIABLES) - set(values)
    if missing:
        raise ValueError(f"no value for {sorted(missing)}")
    return re.sub(
        r"\$\{([A-Z_]+)\}",
        lambda match: values.get(match.group(1), match.group(0)),
        TEMPLATE.read_text(),
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next(
        (path for path in ("/usr/sbin/nginx",) if os.access(path, os.X_OK)), None
    )


@dataclass
class Nginx:
    """One nginx under ``prefix``: its main config, logs, pid and temp files."""

    prefix: Path
    port: int
    publish_root: Path
    upstream: str
    workers: int = 1

    @property
    def config(self) -> Path:
        return self.prefix / "nginx.conf"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def write(self) -> Path:
        """The main config, as the image's: an http block that includes the
        rendered server block."""
        self.prefix.mkdir(parents=True, exist_ok=True)
        server = self.prefix / "commission.conf"
        server.write_text(
            render(
                {
                    "NGINX_PORT": f"127.0.0.1:{self.port}",
                    "PUBLISH_ROOT": str(self.publish_root),
                    "DJANGO_UPSTREAM": self.upstream,
                    "NGINX_RESOLVER": "127.0.0.1",
                }
            )
        )
        temporary = self.prefix / "temp"
        temporary.mkdir(exist_ok=True)
        # As root the workers would run as nobody, who cannot read a private
        # temporary folder; they run as the user who started them.
        user = "user root;\n" if os.geteuid() == 0 else ""
        self.config.write_text(
            f"{user}worker_processes {self.workers};\n"
            f"pid {self.prefix / 'nginx.pid'};\n"
            f"error_log {self.prefix / 'error.log'} warn;\n"
            "daemon off;\n"
            "events { worker_connections 4096; }\n"
            "http {\n"
            "    access_log off;\n"
            "    sendfile on;\n"
            "    keepalive_requests 100000;\n"
            + "".join(
                f"    {kind}_temp_path {temporary / kind};\n"
                for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
            )
            + f"    include {server};\n"
            "}\n"
        )
        return self.config

    def command(self, *arguments: str) -> list[str]:
        binary = nginx_binary()
        if binary is None:
            raise FileNotFoundError("nginx is not installed (Debian: apt-get install nginx)")
        return [
            binary,
            "-p",
            str(self.prefix),
            "-e",
            str(self.prefix / "error.log"),
            "-c",
            str(self.config),
            *arguments,
        ]

    def test(self) -> subprocess.CompletedProcess[str]:
        """``nginx -t``: the configuration parses and every path it names is usable."""
        self.write()
        return subprocess.run(self.command("-t"), capture_output=True, text=True, check=False)

    def start(self) -> subprocess.Popen[bytes]:
        self.write()
        process = subprocess.Popen(
            self.command(), stdout=subprocess.DEVNULL, start_new_session=True
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError((self.prefix / "error.log").read_text())
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return process
            except OSError:
                time.sleep(0.05)
        process.kill()
        raise RuntimeError(f"nginx did not listen on {self.port}")
