"""How the API's response shapes (the `…Public` models) are filled from what the services return.

Most fields of a response have the name and value of an attribute of a table row or of a service's view: those
are read by name, and only the renamed, computed or converted ones are spelt out where the shape is built.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Self, TypeVar

from pydantic import AfterValidator, BaseModel

from backend.db import as_utc

ShapeT = TypeVar("ShapeT", bound=BaseModel)

# An instant answered in UTC: SQLite gives back naive datetimes for timezone-aware columns.
UtcDatetime = Annotated[datetime, AfterValidator(as_utc)]


def public_from(shape: type[ShapeT], source: object, /, **fields: Any) -> ShapeT:
    """`shape` with each field read from `source`'s attribute of the same name, except those given in `fields`."""
    return shape.model_validate(
        {name: fields[name] if name in fields else getattr(source, name) for name in shape.model_fields}
    )


class RowShape(BaseModel):
    """A response shape each of whose fields is the attribute of the same name of what it shows."""

    @classmethod
    def of(cls, source: object) -> Self:
        return public_from(cls, source)


def media_url(key: str | None) -> str | None:
    """Where a stored photo or document is served, or None where there is none."""
    return f"/media/{key}" if key else None
