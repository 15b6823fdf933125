"""Words that mean the same to a buyer: spellings of one word and common synonyms, built in and added by managers.

A search for any member of a group also finds the others ("kripik" finds "Keripik Tempe", "nasi kotak" finds
"Nasi Box Ayam"). A member may be several words: they must all be in a product, as a typed search's words are.

The built-in groups live here, in code, reviewed like code and the same on every database; the managers' additions
(`search_synonym`) extend them for what buyers in their zone type. Both apply to every zone's catalogue: a buyer's
words do not change meaning at a zone's border, and a visitor's catalogue has no zone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import ClassVar

from pydantic import BaseModel
from pydantic import Field as PydanticField
from sqlalchemy import CheckConstraint, UniqueConstraint, delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from backend.accounts.models import Role, User
from backend.catalog.searchtext import normalize, spelling_variants
from backend.db import created_at_field, id_field
from backend.errors import N_, Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from backend.moderation.audit import record

MAX_PHRASE_WORDS = 3
MAX_PHRASE_LENGTH = 60

# Spellings of the same word that the rules of searchtext.spelling_variants do not derive.
SPELLINGS: tuple[tuple[str, ...], ...] = (
    ("sambal", "sambel"),
    ("tauge", "toge", "taoge"),
    ("tempe", "tempeh"),
    ("bakso", "baso"),
    ("mie", "mi", "mee"),
    ("bakmi", "bakmie"),
    ("risol", "risoles", "rissoles"),
    ("lumpia", "lunpia", "loenpia"),
    ("pempek", "empek empek", "mpek mpek"),
    ("cokelat", "coklat"),
    ("camilan", "cemilan"),
    ("katering", "catering"),
    ("konveksi", "konfeksi"),
    ("kue", "kueh"),
    ("brownies", "brownis"),
    ("donat", "donut"),
    ("puding", "pudding"),
    ("nugget", "naget"),
    ("sirup", "sirop"),
    ("kwetiau", "kuetiau"),
    ("dimsum", "dim sum"),
    ("wearpack", "wearpak", "werpak"),
)

# Different words for the same thing: Indonesian, the regional word and the English one buyers also type.
SYNONYMS: tuple[tuple[str, ...], ...] = (
    ("nasi kotak", "nasi box"),
    ("snack box", "kue kotak"),
    ("camilan", "snack", "jajanan", "makanan ringan"),
    ("es", "ice"),
    ("teh", "tea"),
    ("kopi", "coffee"),
    ("jus", "juice"),
    ("susu", "milk"),
    ("roti", "bread"),
    ("tahu", "tofu"),
    ("ayam", "chicken"),
    ("sapi", "beef"),
    ("ikan", "fish"),
    ("telur", "telor", "egg"),
    ("pisang", "banana"),
    ("singkong", "ketela", "ubi kayu", "cassava"),
    ("makanan beku", "frozen food"),
    ("seragam", "uniform"),
    ("kaos", "kaus", "t shirt"),
    ("prasmanan", "buffet"),
    ("tumpeng", "nasi tumpeng"),
    ("gorengan", "bakwan", "tempe goreng"),
)

MSG_PHRASE = N_("Type one to three words, letters and numbers only.")
MSG_SAME_WORDS = N_("Type two different words or phrases.")
MSG_EXISTS = N_("These words are already in the list.")
MSG_NOT_FOUND = N_("This synonym does not exist.")
MSG_OTHER_ZONE = N_("Only the managers of the zone that added this synonym may remove it.")


class SynonymInput(BaseModel):
    field_messages: ClassVar[dict[str, str]] = {"words": MSG_PHRASE, "same_as": MSG_PHRASE}

    words: str = PydanticField(min_length=1, max_length=MAX_PHRASE_LENGTH, description="What buyers type")
    same_as: str = PydanticField(min_length=1, max_length=MAX_PHRASE_LENGTH, description="What it should also find")


class SearchSynonym(SQLModel, table=True):
    """Two phrases a manager made mean the same to search; each normalised (catalog.searchtext), in either order."""

    __tablename__ = "search_synonym"
    __table_args__ = (
        UniqueConstraint("words", "same_as", name="uq_search_synonym_words_same_as"),
        CheckConstraint("words <> same_as", name="different_words"),
    )

    id: int = id_field()
    words: str = Field(max_length=MAX_PHRASE_LENGTH)  # first in the unique index
    same_as: str = Field(max_length=MAX_PHRASE_LENGTH, index=True)
    zone_id: int | None = Field(default=None, foreign_key="zone.id", index=True)  # None: an admin added it
    added_by: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = created_at_field()


def equivalents(groups: Iterable[Iterable[str]]) -> dict[str, list[str]]:
    """Each phrase of the groups with the other members of every group it belongs to, in the groups' order."""
    found: defaultdict[str, list[str]] = defaultdict(list)
    for group in groups:
        members = list(group)
        for member in members:
            for other in members:
                if other != member and other not in found[member]:
                    found[member].append(other)
    return dict(found)


BUILT_IN = equivalents((*SPELLINGS, *SYNONYMS))


async def added_pairs(*, session: AsyncSession, phrases: list[str]) -> list[tuple[str, str]]:
    """The managers' synonyms that involve any of these phrases (a search's runs of words)."""
    if not phrases:
        return []
    rows = await session.execute(
        select(col(SearchSynonym.words), col(SearchSynonym.same_as)).where(
            or_(col(SearchSynonym.words).in_(phrases), col(SearchSynonym.same_as).in_(phrases))
        )
    )
    return [(row.words, row.same_as) for row in rows]


async def list_synonyms(*, session: AsyncSession) -> list[SearchSynonym]:
    """The managers' synonyms, newest first."""
    return list((await session.execute(select(SearchSynonym).order_by(col(SearchSynonym.id).desc()))).scalars().all())


def _phrase(field: str, text: str) -> str:
    phrase = normalize(text)
    if not phrase or len(phrase.split()) > MAX_PHRASE_WORDS or len(phrase) > MAX_PHRASE_LENGTH:
        raise ValidationFailed([FieldError(field, MSG_PHRASE)])
    return phrase


async def add_synonym(*, session: AsyncSession, actor: User, words: str, same_as: str) -> SearchSynonym:
    """Make two phrases find each other in search, for every catalogue; recorded in the audit log."""
    first, second = _phrase("words", words), _phrase("same_as", same_as)
    if first == second:
        raise ValidationFailed([FieldError("same_as", MSG_SAME_WORDS)])
    first, second = sorted((first, second))
    built_in = [*BUILT_IN.get(first, []), *spelling_variants(first)]
    if second in built_in or (first, second) in await added_pairs(session=session, phrases=[first]):
        raise ValidationFailed([FieldError("same_as", MSG_EXISTS)])
    synonym = SearchSynonym(words=first, same_as=second, zone_id=actor.zone_id, added_by=actor.id)
    try:
        async with session.begin_nested():  # two managers adding the same pair at once: the second is told
            session.add(synonym)
            await session.flush()
    except IntegrityError:
        raise ValidationFailed([FieldError("same_as", MSG_EXISTS)]) from None
    await record(session, actor, "synonym.add", synonym, actor.zone_id, after={"words": first, "same_as": second})
    return synonym


def may_remove(actor: User, synonym: SearchSynonym) -> bool:
    """The managers of the zone that added a synonym may remove it, and an admin any."""
    return actor.role == Role.ADMIN or (synonym.zone_id is not None and synonym.zone_id == actor.zone_id)


async def remove_synonym(*, session: AsyncSession, actor: User, synonym_id: int) -> None:
    """Remove a synonym the actor's zone added (an admin may remove any); recorded in the audit log."""
    synonym = await session.get(SearchSynonym, synonym_id)
    if synonym is None:
        raise NotFound(MSG_NOT_FOUND)
    if not may_remove(actor, synonym):
        raise Forbidden(MSG_OTHER_ZONE)
    removed = await session.execute(delete(SearchSynonym).where(col(SearchSynonym.id) == synonym_id))
    if getattr(removed, "rowcount", 1) == 0:
        raise Conflict(MSG_NOT_FOUND)
    before = {"words": synonym.words, "same_as": synonym.same_as}
    await record(session, actor, "synonym.remove", synonym, synonym.zone_id, before=before)
