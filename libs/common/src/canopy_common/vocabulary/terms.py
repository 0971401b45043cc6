"""Typed accessors for the extension members an AS2 object carries (docs/architecture.md §3).

AS2 is extensible, so :class:`~canopy_common.events.AS2Object` keeps every member it does not
model as it came (``model_extra``). The Canopy terms (and the few AS2 terms it reads that the
model leaves out, such as a Tombstone's ``formerType``) are read here and only here, each as
its type: a member of another type reads as ``None``, so a consumer never trips on a malformed
document. Ingestion, which must refuse such a document rather than ignore the member, reads
the member as it came with :meth:`CanopyTerms.term`.
"""

from __future__ import annotations

from typing import Literal, TypeAlias

from pydantic import BaseModel

ExtensionTerm: TypeAlias = Literal[
    "kind",
    "role",
    "reaction",
    "status",
    "acceptedAnswer",
    "title",
    "department",
    "location",
    "skills",
    "interests",
    "manager",
    "email",
    "roles",
    "pronouns",
    "active",
    "formerType",
    "subject",
]


class CanopyTerms(BaseModel):
    """The extension members of an AS2 object, typed. Mixed into the AS2 models; adds no
    field, so what is encoded stays exactly what was decoded."""

    def term(self, name: ExtensionTerm) -> object:
        """The member ``name`` as it came (any JSON value), or ``None`` when absent."""
        return (self.model_extra or {}).get(name)

    def _text(self, name: ExtensionTerm) -> str | None:
        value = self.term(name)
        return value if isinstance(value, str) else None

    def _texts(self, name: ExtensionTerm) -> list[str] | None:
        value = self.term(name)
        return [str(item) for item in value] if isinstance(value, list) else None

    @property
    def kind(self) -> str | None:
        """A person's kind (employee | guest | bot) or a post's (note | question | ...)."""
        return self._text("kind")

    @property
    def role(self) -> str | None:
        """A membership role: owner | admin | member."""
        return self._text("role")

    @property
    def reaction(self) -> str | None:
        """The kind of a Like: like | celebrate | insightful | support."""
        return self._text("reaction")

    @property
    def status(self) -> str | None:
        """A task's or event's state (open | completed | cancelled); a Join's ``pending``."""
        return self._text("status")

    @property
    def accepted_answer(self) -> str | None:
        """The id of a question's accepted answer."""
        return self._text("acceptedAnswer")

    @property
    def title(self) -> str | None:
        """A person's job title."""
        return self._text("title")

    @property
    def department(self) -> str | None:
        """A person's department."""
        return self._text("department")

    @property
    def location_name(self) -> str | None:
        """A person's office: the name of the ``Place`` (or the text) ``location`` gives."""
        value = self.term("location")
        if isinstance(value, dict):
            name = value.get("name")
            return str(name) if name else None
        return value if isinstance(value, str) and value else None

    @property
    def skills(self) -> list[str] | None:
        """A person's skills."""
        return self._texts("skills")

    @property
    def interests(self) -> list[str] | None:
        """A person's interests."""
        return self._texts("interests")

    @property
    def manager(self) -> str | None:
        """The IRI of a person's manager."""
        return self._text("manager")

    @property
    def email(self) -> str | None:
        """A person's work address (AS2 has no term for it)."""
        return self._text("email")

    @property
    def roles(self) -> list[str] | None:
        """A person's tenant roles: moderator | tenant_admin | analyst | group_admin."""
        return self._texts("roles")

    @property
    def active(self) -> bool | None:
        """A person's standing: ``False`` for a deactivated person (a former colleague),
        ``True`` when said so; ``None`` when absent (which reads as active)."""
        value = self.term("active")
        return value if isinstance(value, bool) else None

    @property
    def former_type(self) -> str | None:
        """What a ``Tombstone`` was (AS2 ``formerType``): an erased Person, a deleted Group."""
        return self._text("formerType")

    @property
    def subject_id(self) -> str | None:
        """The IRI of a ``Relationship``'s subject (given as an IRI or an object)."""
        value = self.term("subject")
        iri = value.get("id") if isinstance(value, dict) else value
        return iri if isinstance(iri, str) else None
