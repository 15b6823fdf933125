"""search words: the managers' synonyms, and the vocabulary of visible products' words that typos are corrected to

- `search_synonym`: two phrases a zone's manager made mean the same to search (the built-in list is in code,
  backend/catalog/synonyms.py).
- `search_word`: each distinct word of visible products' names, vendors' names and categories, rebuilt by a job
  (backend/catalog/vocabulary.py); filled here once so corrections work before the first run.
- Trigram lookups: on PostgreSQL pg_trgm and a GIN gin_trgm_ops index on search_word.word (outside the models,
  like the search index of 0004); on SQLite the table `search_word_trigram` (WITHOUT ROWID).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 18:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "search_word",
        sa.Column("word", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("products", sa.Integer(), nullable=False),
        sa.Column("trigram_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("word", name=op.f("pk_search_word")),
    )
    op.create_table(
        "search_word_trigram",
        sa.Column("trigram", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("word", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.ForeignKeyConstraint(
            ["word"], ["search_word.word"], name=op.f("fk_search_word_trigram_word_search_word"), ondelete="CASCADE"
        ),
        sa.Column("trigram_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("trigram", "word", name=op.f("pk_search_word_trigram")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "search_synonym",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("words", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("same_as", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("zone_id", sa.Integer(), nullable=True),
        sa.Column("added_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.CheckConstraint("words <> same_as", name=op.f("ck_search_synonym_different_words")),
        sa.ForeignKeyConstraint(
            ["added_by"], ["user.id"], name=op.f("fk_search_synonym_added_by_user"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(["zone_id"], ["zone.id"], name=op.f("fk_search_synonym_zone_id_zone")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_synonym")),
        sa.UniqueConstraint("words", "same_as", name="uq_search_synonym_words_same_as"),
    )
    with op.batch_alter_table("search_synonym", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_search_synonym_same_as"), ["same_as"], unique=False)
        batch_op.create_index(batch_op.f("ix_search_synonym_zone_id"), ["zone_id"], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        # Without fastupdate: the job's inserts would wait in the index's pending list, which every lookup reads
        # through until a vacuum merges it (30 ms instead of 0.2 ms after a rebuild of 30,000 words).
        op.execute(
            "CREATE INDEX ix_search_word_trigram ON search_word USING gin (word gin_trgm_ops) WITH (fastupdate = off)"
        )
    _fill_vocabulary()


def _fill_vocabulary() -> None:
    """The words of live products of active vendors (certificates are left to the job's first run)."""
    connection = op.get_bind()
    rows = connection.execute(
        sa.text(
            "SELECT product.search_name, product.search_vendor FROM product JOIN vendor ON vendor.id = product.vendor_id "
            "WHERE product.status = 'live' AND vendor.status = 'active'"
        )
    ).all()
    counts: dict[str, int] = {}
    for name, vendor_name in rows:
        for word in {w for w in f"{name} {vendor_name}".split() if 2 <= len(w) <= 60 and not w.isdigit()}:
            counts[word] = counts.get(word, 0) + 1
    if not counts:
        return
    words = sorted(counts)
    connection.execute(
        sa.text("INSERT INTO search_word (word, products, trigram_count) VALUES (:word, :products, :trigram_count)"),
        [{"word": w, "products": counts[w], "trigram_count": len(_trigrams(w))} for w in words],
    )
    if connection.dialect.name != "postgresql":
        connection.execute(
            sa.text(
                "INSERT INTO search_word_trigram (trigram, word, trigram_count) VALUES (:trigram, :word, :trigram_count)"
            ),
            [
                {"trigram": t, "word": w, "trigram_count": len(_trigrams(w))}
                for w in words
                for t in sorted(_trigrams(w))
            ],
        )


def _trigrams(word: str) -> set[str]:  # backend.catalog.searchtext.trigrams when this was written
    padded = f"  {word} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_search_word_trigram")
        # pg_trgm stays: other databases objects may use it, and it is harmless.
    with op.batch_alter_table("search_synonym", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_search_synonym_zone_id"))
        batch_op.drop_index(batch_op.f("ix_search_synonym_same_as"))
    op.drop_table("search_synonym")
    op.drop_table("search_word_trigram")
    op.drop_table("search_word")
