"""Is anything there? Addresses from settings, TCP and Kafka-protocol probes."""

from __future__ import annotations

import ipaddress
import random
import socket
import ssl
import struct
import time
from contextlib import nullcontext
from pathlib import Path
from urllib.parse import urlsplit

APIVERSIONS_KEY = 18
PROBE_CORRELATION_ID = 0x0CA90


def is_port_open(host: str, port: int, timeout_s: float = 1.0) -> bool:
    """Whether something accepts TCP connections at ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def repo_root(*starts: Path) -> Path | None:
    """The first of ``starts`` or their parents holding ``uv.lock`` (the workspace root)."""
    for start in starts:
        for folder in (start, *start.parents):
            if (folder / "uv.lock").is_file():
                return folder
    return None


# Ports handed out below the kernel's ephemeral range (Linux: 32768-60999): a port picked
# there can be taken by any outgoing connection before the server binds it (a Kafka node
# then fails with "Address already in use"); one below it only by another server.
_QUIET_PORTS = range(20000, 32000)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on at ``host`` right now, below the ephemeral range (so no
    outgoing connection takes it before it is used), else one the kernel picks."""
    for port in random.sample(_QUIET_PORTS, 50):
        with socket.socket() as sock:
            try:
                sock.bind((host, port))
            except OSError:
                continue
            return port
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def wait_for_port(host: str, port: int, timeout_s: float) -> bool:
    """Poll :func:`is_port_open` until it holds or ``timeout_s`` passes."""
    deadline = time.monotonic() + timeout_s
    while not is_port_open(host, port):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.2)
    return True


def kafka_answers(
    host: str, port: int, timeout_s: float = 2.0, *, tls: ssl.SSLContext | None = None
) -> bool:
    """Whether a Kafka-protocol broker at ``host:port`` answers an ApiVersions request.

    A raw v0 request: no client library, no event loop, and it fails fast on anything that
    merely accepts TCP. With ``tls``, over TLS first (an SSL or SASL_SSL listener; a SASL one
    answers ApiVersions before authentication).
    """
    client_id = b"canopy-devstack"
    header = struct.pack(">hhih", APIVERSIONS_KEY, 0, PROBE_CORRELATION_ID, len(client_id))
    request = header + client_id  # ApiVersions v0 has an empty body
    try:
        with (
            socket.create_connection((host, port), timeout=timeout_s) as tcp,
            tls.wrap_socket(tcp, server_hostname=host)
            if tls is not None
            else nullcontext(tcp) as sock,
        ):
            sock.settimeout(timeout_s)
            sock.sendall(struct.pack(">i", len(request)) + request)
            head = b""
            while len(head) < 10:  # size, correlation id, error code
                chunk = sock.recv(10 - len(head))
                if not chunk:
                    return False
                head += chunk
    except OSError:
        return False
    _, correlation_id, error_code = struct.unpack(">iih", head)
    return bool(correlation_id == PROBE_CORRELATION_ID and error_code == 0)


def is_local_host(host: str) -> bool:
    """Whether ``host`` names this machine's loopback interface."""
    if host in ("", "localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:
        return ipaddress.ip_address(socket.gethostbyname(host)).is_loopback
    except (OSError, ValueError):
        return False


def url_address(url: str, default_port: int) -> tuple[str, int]:
    """``(host, port)`` of a ``postgresql://`` or ``redis://`` URL."""
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or default_port


def bootstrap_address(servers: str) -> tuple[str, int]:
    """``(host, port)`` of the first of comma-separated Kafka bootstrap servers."""
    first = servers.split(",")[0].strip()
    return url_address(f"kafka://{first}", 9092)


def dsn_with_database(dsn: str, database: str) -> str:
    """The same Postgres DSN pointing at another database."""
    return urlsplit(dsn)._replace(path=f"/{database}").geturl()
