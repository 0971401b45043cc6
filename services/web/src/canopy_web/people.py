"""Who a signed-in person is to the services: one rule, used at sign-in (dev or OpenID Connect)
and whenever the session's token is renewed (docs/architecture.md §18)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx

from canopy_web.api import Api, ApiError, Service, SignInRequired
from canopy_web.metrics import WebMetrics
from canopy_web.sessions import Session, SessionStore
from canopy_web.settings import Settings
from canopy_web.tokens import TokenMinter

# A token is renewed this long before it expires, so no call carries one about to lapse.
_RENEW_BEFORE_S = 60.0


@dataclass(frozen=True, slots=True)
class Standing:
    """A person as the services see them: name and the roles their token should carry."""

    user_id: str
    name: str
    roles: tuple[str, ...]


class NotAPerson(Exception):
    """The services know no active person with this id in the tenant."""

    def __init__(self, user_id: str, tenant: str) -> None:
        super().__init__(f"{user_id!r} is not an active person of {tenant!r}")
        self.user_id = user_id
        self.tenant = tenant


def roles_of(profile: dict[str, Any]) -> tuple[str, ...]:
    """The roles a person's token carries: their kind (guest or member) and the tenant roles
    the directory gives them."""
    kind = "guest" if profile.get("kind") == "guest" else "member"
    return (kind, *sorted(str(r) for r in profile.get("roles") or ()))


class People:
    """Looks people up in the directory with their own token, and keeps sessions' tokens fresh."""

    def __init__(
        self,
        *,
        settings: Settings,
        http: httpx.AsyncClient,
        minter: TokenMinter,
        sessions: SessionStore,
        metrics: WebMetrics,
    ) -> None:
        self._settings = settings
        self._http = http
        self._minter = minter
        self._sessions = sessions
        self._metrics = metrics

    @property
    def minter(self) -> TokenMinter:
        """What signs the tokens sent to the services."""
        return self._minter

    @property
    def urls(self) -> dict[Service, str]:
        """Each service's base URL."""
        s = self._settings
        return {
            Service.INGESTION: s.ingestion_url,
            Service.FANOUT: s.fanout_url,
            Service.NOTIFY: s.notify_url,
            Service.ANALYTICS: s.analytics_url,
        }

    def api(self, token: str) -> Api:
        """The services as the holder of ``token``."""
        return Api(self._http, self.urls, token, metrics=self._metrics)

    async def standing(self, user_id: str, tenant: str) -> Standing:
        """The person ``user_id`` of ``tenant``, as the directory knows them now.

        The lookup runs with a guest token of that person (the least a token can grant): the
        services accept it only for an active, provisioned person."""
        token, _ = self._minter.mint(tenant=tenant, user=user_id, roles=["guest"])
        try:
            profile = await self.api(token).get(Service.INGESTION, "/v1/users/me")
        except (SignInRequired, ApiError) as exc:
            if isinstance(exc, ApiError) and exc.status not in (403, 404):
                raise
            raise NotAPerson(user_id, tenant) from exc
        if not profile.get("active", True):
            raise NotAPerson(user_id, tenant)
        name = str(profile.get("display_name") or user_id)
        return Standing(user_id=user_id, name=name, roles=roles_of(profile))

    async def sign_in(
        self, user_id: str, *, tenant: str, method: str, id_token: str = ""
    ) -> Session:
        """A new session for ``user_id`` of ``tenant``, whose identity the caller established."""
        person = await self.standing(user_id, tenant)
        session = await self._sessions.start(
            user_id=person.user_id,
            tenant=tenant,
            name=person.name,
            roles=person.roles,
            method=method,
            id_token=id_token,
        )
        self._metrics.sign_ins.labels(method).inc()
        return await self.fresh(session)

    async def fresh(self, session: Session) -> Session:
        """``session`` with a token good for a while yet: renewed when it is about to expire,
        with the roles the directory gives the person now (a deactivated person's session
        ends here)."""
        if session.token and session.token_expires_at - time.time() > _RENEW_BEFORE_S:
            return session
        try:
            person = await self.standing(session.user_id, session.tenant)
        except NotAPerson:
            await self._sessions.end(session.id)
            raise SignInRequired from None
        token, expires_at = self._minter.mint(
            tenant=session.tenant, user=session.user_id, roles=person.roles
        )
        return await self._sessions.update(
            session, token=token, token_expires_at=expires_at, roles=person.roles, name=person.name
        )
