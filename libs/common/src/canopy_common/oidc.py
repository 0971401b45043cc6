"""The identity provider's signing keys found through OpenID Connect Discovery.

An OpenID provider publishes its configuration at ``<issuer>/.well-known/openid-configuration``
(OpenID Connect Discovery 1.0 §4); its ``jwks_uri`` names the key set. Operators then configure
only the issuer, and a provider that moves its key set is followed.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.request
from typing import Any
from urllib.error import HTTPError, URLError

import jwt
from jwt.exceptions import PyJWKClientConnectionError

# The configuration rarely changes; a JWKS fetch that fails reads it again sooner.
DISCOVERY_CACHE_S = 3600.0
# An OpenID configuration is a few KiB; a bigger answer is not one.
_MAX_CONFIGURATION_BYTES = 256 * 1024


def fetch_jwks_uri(discovery_url: str, issuer: str, timeout_s: float) -> str:
    """The ``jwks_uri`` of the OpenID configuration at ``discovery_url``.

    Raises :class:`~jwt.exceptions.PyJWKClientConnectionError` when the configuration cannot
    be fetched within ``timeout_s``, is not a JSON object, names another issuer (Discovery
    §4.3: it must be the one tokens carry) or has no http(s) ``jwks_uri``.
    """
    if not discovery_url.startswith(("https://", "http://")):
        raise PyJWKClientConnectionError(
            f"OpenID configuration {discovery_url}: not an http(s) URL"
        )
    try:
        # The scheme is checked above: no file: or custom schemes reach urlopen.
        request = urllib.request.Request(discovery_url, headers={"Accept": "application/json"})  # noqa: S310
        with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310
            raw = response.read(_MAX_CONFIGURATION_BYTES + 1)
    except (URLError, TimeoutError, http.client.HTTPException, ValueError) as exc:
        if isinstance(exc, HTTPError):
            exc.close()
        raise PyJWKClientConnectionError(f"OpenID configuration {discovery_url}: {exc}") from exc
    if len(raw) > _MAX_CONFIGURATION_BYTES:
        raise PyJWKClientConnectionError(f"OpenID configuration {discovery_url}: too large")
    try:
        configuration: Any = json.loads(raw)
    except ValueError as exc:
        raise PyJWKClientConnectionError(f"OpenID configuration {discovery_url}: not JSON") from exc
    if not isinstance(configuration, dict):
        raise PyJWKClientConnectionError(f"OpenID configuration {discovery_url}: not an object")
    if configuration.get("issuer") != issuer:
        raise PyJWKClientConnectionError(
            f"OpenID configuration {discovery_url}: issuer {configuration.get('issuer')!r} "
            f"is not {issuer!r}"
        )
    jwks_uri = configuration.get("jwks_uri")
    if not isinstance(jwks_uri, str) or not jwks_uri.startswith(("https://", "http://")):
        raise PyJWKClientConnectionError(f"OpenID configuration {discovery_url}: no jwks_uri")
    return jwks_uri


class DiscoveredJWKClient(jwt.PyJWKClient):
    """A :class:`jwt.PyJWKClient` whose key-set URL is the provider's discovered ``jwks_uri``.

    The configuration is read on the first key fetch, kept for :data:`DISCOVERY_CACHE_S`, and
    read again after a key-set fetch fails. Every failure is a
    :class:`~jwt.exceptions.PyJWKClientConnectionError`, as for a plain JWKS URL.
    """

    def __init__(
        self,
        discovery_url: str,
        issuer: str,
        *,
        lifespan: float,
        timeout: float,
        cooldown_duration: float,
    ) -> None:
        # The URI is a placeholder until discovery names the real one.
        super().__init__(
            discovery_url, lifespan=lifespan, timeout=timeout, cooldown_duration=cooldown_duration
        )
        self.discovery_url = discovery_url
        self._issuer = issuer
        self._discovered_until = 0.0
        self._discovery_lock = threading.Lock()

    def fetch_data(self) -> Any:
        """Discover the ``jwks_uri`` when due, then fetch the key set from it."""
        with self._discovery_lock:
            if time.monotonic() >= self._discovered_until:
                self.uri = fetch_jwks_uri(self.discovery_url, self._issuer, self.timeout)
                self._discovered_until = time.monotonic() + DISCOVERY_CACHE_S
        try:
            return super().fetch_data()
        except PyJWKClientConnectionError:
            self._discovered_until = 0.0  # the provider may have moved its keys
            raise
