"""Run Alembic from code: the CLI, `make run` and the test suite all migrate the same way."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from backend.config import PROJECT_ROOT

# Database objects a migration creates outside the models (the search index, see migration 0004): Alembic's
# comparison of models and database leaves them alone.
UNMODELLED_TABLE_PREFIXES = ("product_search", "catalogue_search")  # SQLite's FTS5 tables, 0004 and 0013
UNMODELLED_INDEXES = frozenset(
    {
        "ix_product_search_document",
        "ix_search_word_trigram",
        "ix_catalogue_entry_search_document",
        "ix_vendor_reach_cell",
    }
)  # 0004, 0012 (pg_trgm), 0013 (two, PostgreSQL only)
UNMODELLED_COLUMNS = frozenset({"search_document"})  # product's and catalogue_entry's generated tsvector


def include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    if type_ == "table" and name and name.startswith(UNMODELLED_TABLE_PREFIXES):
        return False
    if type_ == "column" and name in UNMODELLED_COLUMNS:
        return False
    return not (type_ == "index" and name in UNMODELLED_INDEXES)


def alembic_config(database_url: str) -> Config:
    config = Config(toml_file=str(PROJECT_ROOT / "pyproject.toml"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(database_url), revision)
