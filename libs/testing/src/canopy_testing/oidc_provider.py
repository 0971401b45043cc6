"""A real OpenID provider for tests: Dex (https://dexidp.io), built from source by ``make setup``
(scripts/build-dex.sh) into ``.cache/dex/bin/dex``, started on a free port with a generated
configuration — in-memory storage, PKCE enforced, one static client and the people a test gives,
who sign in with an e-mail and password on Dex's own login page — and stopped by its pid.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from canopy_dev.devstack.probes import free_port

_REPO = Path(__file__).resolve().parents[4]
DEX = _REPO / ".cache" / "dex" / "bin" / "dex"
# bcrypt of "password" (Dex's own example): hashing needs a bcrypt library the lock lacks.
PASSWORD = "password"
PASSWORD_HASH = "$2a$10$2b2cU8CPhOTaGrs1HRQuAueS7JTT5ZHsHSzYiFPm1leZck7Mc8T4W"
# Dex answers in well under a second; a busy CI machine may take longer.
_START_TIMEOUT_S = 30.0
_STOP_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class ProviderPerson:
    """A person Dex knows: signs in with ``email`` and :data:`PASSWORD`."""

    email: str
    name: str
    username: str
    subject: str  # Dex's user id: the ID token's `sub` is derived from it

    def as_dex(self) -> dict[str, object]:
        return {
            "email": self.email,
            "hash": PASSWORD_HASH,
            "username": self.username,
            "name": self.name,
            "emailVerified": True,
            "userID": self.subject,
        }


@dataclass(frozen=True)
class OpenIdProvider:
    """A running provider: its issuer and the client registered with it."""

    issuer: str
    client_id: str
    client_secret: str
    pid: int
    log_path: Path
    people: tuple[ProviderPerson, ...] = field(default=())

    @property
    def discovery_url(self) -> str:
        return self.issuer + "/.well-known/openid-configuration"


def dex_config(
    *,
    issuer: str,
    port: int,
    client_id: str,
    client_secret: str,
    redirect_uris: Sequence[str],
    people: Sequence[ProviderPerson],
) -> dict[str, object]:
    """Dex's configuration (YAML is a superset of JSON: written as JSON)."""
    return {
        "issuer": issuer,
        "storage": {"type": "memory"},
        "web": {"http": f"127.0.0.1:{port}"},
        "logger": {"level": "info"},
        "oauth2": {
            "skipApprovalScreen": True,
            "responseTypes": ["code"],
            # Dex refuses an authorization request without a code challenge, and plain ones.
            "pkce": {"enforce": True, "codeChallengeMethodsSupported": ["S256"]},
        },
        "expiry": {"idTokens": "1h"},
        "staticClients": [
            {
                "id": client_id,
                "name": "Canopy",
                "secret": client_secret,
                "redirectURIs": list(redirect_uris),
            }
        ],
        "enablePasswordDB": True,
        "staticPasswords": [person.as_dex() for person in people],
    }


@contextmanager
def dex(
    run_dir: Path,
    *,
    client_id: str,
    client_secret: str,
    redirect_uris: Sequence[str],
    people: Sequence[ProviderPerson],
) -> Iterator[OpenIdProvider]:
    """Dex on a free port, ready (its discovery document answers); stopped afterwards."""
    if not DEX.is_file():
        raise RuntimeError(f"{DEX} is missing: run `make setup` (scripts/build-dex.sh builds Dex)")
    port = free_port()
    issuer = f"http://127.0.0.1:{port}/dex"
    config = run_dir / "dex.json"
    config.write_text(
        json.dumps(
            dex_config(
                issuer=issuer,
                port=port,
                client_id=client_id,
                client_secret=client_secret,
                redirect_uris=redirect_uris,
                people=people,
            )
        )
    )
    log_path = run_dir / "dex.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(DEX), "serve", str(config)], stdout=log, stderr=subprocess.STDOUT
        )
    try:
        provider = OpenIdProvider(
            issuer=issuer,
            client_id=client_id,
            client_secret=client_secret,
            pid=process.pid,
            log_path=log_path,
            people=tuple(people),
        )
        _wait_ready(process, provider)
        yield provider
    finally:
        process.terminate()
        try:
            process.wait(_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_ready(process: subprocess.Popen[bytes], provider: OpenIdProvider) -> None:
    deadline = time.monotonic() + _START_TIMEOUT_S
    with httpx.Client(timeout=2.0) as http:
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"Dex exited with {process.returncode}: {provider.log_path.read_text()[-2000:]}"
                )
            try:
                if http.get(provider.discovery_url).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"Dex did not answer within {_START_TIMEOUT_S:.0f}s")
            time.sleep(0.05)
