"""The web client as the issuer of the services' tokens: with ``CANOPY_WEB_SIGNING_KEY_FILE``
it publishes its OpenID configuration and public keys, so the services find the keys as they
would a provider's (``CANOPY_JWT_ISSUER`` = the web client's public URL; docs/architecture.md
§18). Without a key (local HS256) there is nothing to publish: 404."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from canopy_web.deps import web_state
from canopy_web.errors import error_page
from canopy_web.tokens import SIGNING_ALGORITHM

router = APIRouter()

JWKS_PATH = "/.well-known/jwks.json"
# Verifiers cache keys for minutes anyway (PyJWKClient: 300 s); a rotated key shows up as an
# unknown key id, which makes them fetch again.
_CACHE = "public, max-age=300"


@router.get("/.well-known/openid-configuration", include_in_schema=False)
async def openid_configuration(request: Request) -> Response:
    minter = web_state(request).people.minter
    if minter.signing_key is None:
        return await error_page(request, 404)
    issuer = minter.issuer
    return JSONResponse(
        {
            "issuer": issuer,
            "jwks_uri": issuer + JWKS_PATH,
            "id_token_signing_alg_values_supported": [SIGNING_ALGORITHM],
            "subject_types_supported": ["public"],
        },
        headers={"Cache-Control": _CACHE},
    )


@router.get(JWKS_PATH, include_in_schema=False)
async def jwks(request: Request) -> Response:
    minter = web_state(request).people.minter
    if minter.signing_key is None:
        return await error_page(request, 404)
    return JSONResponse(minter.jwks(), headers={"Cache-Control": _CACHE})
