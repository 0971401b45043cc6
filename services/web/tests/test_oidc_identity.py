"""Company sign-in's pure parts: which person an ID token names, what a provider's
configuration offers, where sign-out sends the browser, and the settings it needs."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from canopy_web.oidc import ProviderDown, SignInRefused, person_of, provider_of
from canopy_web.settings import Settings

ISSUER = "https://login.acme.example"


def person(claims: dict[str, Any], **options: Any) -> tuple[str, str]:
    settings: dict[str, Any] = {
        "user_claim": "email",
        "email_domains": ["acme.example"],
        "tenant_claim": "",
        "default_tenant": "acme",
    }
    return person_of(claims, **(settings | options))


def test_a_company_address_names_the_person_by_its_lower_cased_local_part() -> None:
    claims = {"email": "Nadia.Example@ACME.example", "email_verified": True}
    assert person(claims) == ("nadia.example", "acme")


def test_an_address_of_another_domain_is_refused_not_taken_for_the_namesake() -> None:
    with pytest.raises(SignInRefused, match=r"nadia\.example@gmail\.com is not an address"):
        person({"email": "nadia.example@gmail.com"})


def test_an_unverified_address_is_refused() -> None:
    with pytest.raises(SignInRefused, match="is not verified"):
        person({"email": "nadia@acme.example", "email_verified": False})


def test_without_company_domains_the_claim_is_the_person_id_as_it_is() -> None:
    claims = {"preferred_username": "Nadia", "email": "x@y.example"}
    assert person(claims, user_claim="preferred_username", email_domains=[]) == ("Nadia", "acme")


@pytest.mark.parametrize(
    "claims", [{}, {"email": ""}, {"email": 42}, {"email": "a b@acme.example"}]
)
def test_a_token_naming_no_usable_person_is_refused(claims: dict[str, Any]) -> None:
    with pytest.raises(SignInRefused, match=r"which Canopy person you are \(email\)"):
        person(claims)


def test_a_tenant_claim_names_the_tenant_and_must_be_a_tenant_id() -> None:
    claims = {"email": "nadia@acme.example", "org": {"tenant": "globex"}}
    assert person(claims, tenant_claim="org.tenant") == ("nadia", "globex")
    with pytest.raises(SignInRefused, match=r"org\.tenant"):
        person(
            {"email": "nadia@acme.example", "org": {"tenant": "no such/tenant"}},
            tenant_claim="org.tenant",
        )


def configuration(**changes: Any) -> dict[str, Any]:
    return {
        "issuer": ISSUER,
        "authorization_endpoint": f"{ISSUER}/authorize",
        "token_endpoint": f"{ISSUER}/token",
        "jwks_uri": f"{ISSUER}/keys",
        "id_token_signing_alg_values_supported": ["RS256", "HS256", "none"],
    } | changes


def test_a_provider_offers_only_asymmetric_signatures_and_its_own_issuer() -> None:
    provider = provider_of(configuration(), ISSUER)
    assert provider.algorithms == ("RS256",)  # never HS256 (keyed by our secret) or none
    assert provider.basic_auth
    assert provider.end_session_endpoint is None
    with pytest.raises(ProviderDown, match="not for issuer"):
        provider_of(configuration(issuer="https://evil.example"), ISSUER)
    with pytest.raises(ProviderDown, match="no token_endpoint"):
        provider_of(configuration(token_endpoint=None), ISSUER)


def test_client_secret_post_is_used_only_when_basic_is_not_offered() -> None:
    offered = configuration(token_endpoint_auth_methods_supported=["client_secret_post"])
    assert not provider_of(offered, ISSUER).basic_auth


def test_company_sign_in_needs_issuer_client_id_and_secret_together() -> None:
    with pytest.raises(ValidationError, match="CANOPY_WEB_OIDC_CLIENT_SECRET as well"):
        Settings(oidc_issuer=ISSUER, oidc_client_id="canopy")
    settings = Settings(
        oidc_issuer=ISSUER, oidc_client_id="canopy", oidc_client_secret=SecretStr("s3cret")
    )
    assert settings.oidc_configured
    assert "s3cret" not in repr(settings)


def test_production_needs_company_sign_in_a_signing_key_and_no_local_sign_in() -> None:
    errors = "\n".join(Settings.model_validate({"CANOPY_ENV": "production"}).production_errors())
    assert "CANOPY_WEB_OIDC_ISSUER, CANOPY_WEB_OIDC_CLIENT_ID and" in errors
    assert "CANOPY_WEB_SIGNING_KEY_FILE must be set" in errors
    assert "CANOPY_WEB_DEV_SIGN_IN must be false" in errors
    assert "CANOPY_WEB_PUBLIC_URL must be https" in errors
