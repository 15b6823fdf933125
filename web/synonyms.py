"""The manager's page of search synonyms: the built-in list to read, the zone's own additions to add and remove.

Plain forms with a redirect (303 back to the list with a notice); each change is in the audit log.
"""

from __future__ import annotations

from litestar import get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from backend.accounts.auth import UserRequest
from backend.catalog import synonyms
from backend.db import DbSession, undone_if_refused
from backend.errors import ValidationFailed
from web.forms import field_errors, form_values, read_form
from web.responses import page, see_other
from web.roles import MANAGERS

PATH = "/manager/synonyms"


async def _synonyms_page(
    request: UserRequest,
    db_session: AsyncSession,
    *,
    status_code: int = 200,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> Template:
    added = await synonyms.list_synonyms(session=db_session)
    return page(
        "moderation/synonyms.html",
        status_code=status_code,
        added=added,
        removable={synonym.id for synonym in added if synonyms.may_remove(request.user, synonym)},
        built_in=[*synonyms.SPELLINGS, *synonyms.SYNONYMS],
        form=form or {},
        errors=errors or {},
        notice=request.query_params.get("notice"),
    )


@get(PATH, guards=MANAGERS)
async def synonyms_page(request: UserRequest, db_session: DbSession) -> Template:
    return await _synonyms_page(request, db_session)


@post(PATH, guards=MANAGERS)
async def add_synonym(request: UserRequest, db_session: DbSession) -> Template | Redirect:
    values = await form_values(request)
    try:
        data = read_form(synonyms.SynonymInput, values)
        async with undone_if_refused(db_session):
            await synonyms.add_synonym(session=db_session, actor=request.user, words=data.words, same_as=data.same_as)
    except ValidationFailed as refused:
        return await _synonyms_page(request, db_session, status_code=422, form=values, errors=field_errors(refused))
    return see_other(PATH, notice="synonym_added")


@post(f"{PATH}/{{synonym_id:int}}/remove", guards=MANAGERS)
async def remove_synonym(request: UserRequest, synonym_id: FromPath[int], db_session: DbSession) -> Redirect:
    await synonyms.remove_synonym(session=db_session, actor=request.user, synonym_id=synonym_id)
    return see_other(PATH, notice="synonym_removed")


PAGE_ROUTES = [synonyms_page, add_synonym, remove_synonym]
