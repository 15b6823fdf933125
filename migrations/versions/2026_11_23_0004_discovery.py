"""discovery: search text and its index, buyer locations, ratings, capacity per day

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 11:56:05.853031

The search index lives outside the models (see backend/catalog/search.py):
- SQLite: an FTS5 table `product_search` over product.search_name/search_vendor/search_body, kept by triggers.
  A later migration that makes batch mode recreate the product table drops these triggers with it and must
  create them again (tests/test_migrations.py checks that they exist at head).
- PostgreSQL: a stored generated column `search_document` (the weighted tsvector of the same columns) with a
  GIN index, and `great_circle_km()` as an SQL
  function (SQLite gets the same function from the connection, backend/db.py).
"""

import re
import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PG_DOCUMENT = (
    "(setweight(to_tsvector('simple'::regconfig, search_name), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, search_vendor), 'B') || "
    "setweight(to_tsvector('simple'::regconfig, search_body), 'C'))"
)
PG_GREAT_CIRCLE = """
CREATE FUNCTION great_circle_km(lat1 double precision, lon1 double precision,
                                lat2 double precision, lon2 double precision) RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT 2 * 6371.0088 * asin(least(1.0, sqrt(
    power(sin(radians(lat2 - lat1) / 2), 2)
    + cos(radians(lat1)) * cos(radians(lat2)) * power(sin(radians(lon2 - lon1) / 2), 2))))
$$
"""
SQLITE_FTS = [
    (
        "CREATE VIRTUAL TABLE product_search USING fts5(search_name, search_vendor, search_body, content='product', "
        "content_rowid='id', tokenize='unicode61 remove_diacritics 2', prefix='2 3')"
    ),
    (
        "CREATE TRIGGER product_search_insert AFTER INSERT ON product BEGIN "
        "INSERT INTO product_search(rowid, search_name, search_vendor, search_body) "
        "VALUES (new.id, new.search_name, new.search_vendor, new.search_body); END"
    ),
    (
        "CREATE TRIGGER product_search_delete AFTER DELETE ON product BEGIN "
        "INSERT INTO product_search(product_search, rowid, search_name, search_vendor, search_body) "
        "VALUES ('delete', old.id, old.search_name, old.search_vendor, old.search_body); END"
    ),
    (
        "CREATE TRIGGER product_search_update AFTER UPDATE OF search_name, search_vendor, search_body ON product BEGIN "
        "INSERT INTO product_search(product_search, rowid, search_name, search_vendor, search_body) "
        "VALUES ('delete', old.id, old.search_name, old.search_vendor, old.search_body); "
        "INSERT INTO product_search(rowid, search_name, search_vendor, search_body) "
        "VALUES (new.id, new.search_name, new.search_vendor, new.search_body); END"
    ),
]
# A frozen copy of catalog.searchtext at this revision, to fill the new columns of existing products.
CATEGORY_WORDS = {
    "catering": "katering catering makan siang prasmanan",
    "snacks": "camilan snack jajanan makanan olahan kue keripik",
    "frozen": "makanan beku frozen food",
    "drinks": "minuman drink jamu kopi teh",
    "fresh": "hasil tani sayur buah segar fresh produce",
    "uniforms": "konveksi seragam uniform pakaian kerja wearpack",
    "crafts": "kerajinan craft anyaman batik",
    "other": "lainnya other",
}


def _normalize(text: str) -> str:
    plain = "".join(c for c in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(c))
    return " ".join(re.findall(r"[0-9a-z]+", plain))


def upgrade() -> None:
    op.create_table(
        "capacity_day",
        sa.Column("vendor_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("held", sa.Integer(), nullable=False),
        sa.CheckConstraint("held >= 0 AND held <= capacity", name=op.f("ck_capacity_day_held_within_capacity")),
        sa.ForeignKeyConstraint(
            ["vendor_id"], ["vendor.id"], name=op.f("fk_capacity_day_vendor_id_vendor"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("vendor_id", "day", name=op.f("pk_capacity_day")),
    )
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("latitude", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("longitude", sa.Float(), nullable=True))

    with op.batch_alter_table("product", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("search_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("search_vendor", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("search_body", sqlmodel.sql.sqltypes.AutoString(length=2400), nullable=False, server_default="")
        )
        batch_op.create_index("ix_product_vendor_status", ["vendor_id", "status"], unique=False)

    with op.batch_alter_table("vendor", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rating_count", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("rating_sum", sa.Integer(), nullable=False, server_default="0"))
        batch_op.create_check_constraint(
            "rating_range", "rating_count >= 0 AND rating_sum >= rating_count AND rating_sum <= 5 * rating_count"
        )
        batch_op.drop_index(batch_op.f("ix_vendor_latitude"))
        batch_op.drop_index(batch_op.f("ix_vendor_longitude"))
        batch_op.create_index("ix_vendor_location", ["latitude", "longitude"], unique=False)

    connection = op.get_bind()
    rows = connection.execute(
        sa.text(
            "SELECT product.id, product.name, product.description, product.category, vendor.business_name "
            "FROM product JOIN vendor ON vendor.id = product.vendor_id"
        )
    ).all()
    for product_id, name, description, category, vendor_name in rows:
        connection.execute(
            sa.text(
                "UPDATE product SET search_name = :name, search_vendor = :vendor, search_body = :body WHERE id = :id"
            ),
            {
                "id": product_id,
                "name": _normalize(name),
                "vendor": _normalize(vendor_name),
                "body": _normalize(f"{description} {CATEGORY_WORDS.get(category, '')}"),
            },
        )

    if connection.dialect.name == "postgresql":
        op.execute(PG_GREAT_CIRCLE)
        # Stored, so neither the filter nor the ranking recomputes three tsvectors per candidate row.
        op.execute(f"ALTER TABLE product ADD COLUMN search_document tsvector GENERATED ALWAYS AS {PG_DOCUMENT} STORED")
        op.execute("CREATE INDEX ix_product_search_document ON product USING gin (search_document)")
    else:
        for statement in SQLITE_FTS:
            op.execute(statement)
        op.execute("INSERT INTO product_search(product_search) VALUES ('rebuild')")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_product_search_document")
        op.execute("ALTER TABLE product DROP COLUMN IF EXISTS search_document")
        op.execute(
            "DROP FUNCTION IF EXISTS great_circle_km(double precision, double precision, "
            "double precision, double precision)"
        )
    else:
        for trigger in ("product_search_insert", "product_search_delete", "product_search_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS product_search")

    with op.batch_alter_table("vendor", schema=None) as batch_op:
        batch_op.drop_index("ix_vendor_location")
        batch_op.drop_constraint(op.f("ck_vendor_rating_range"), type_="check")
        batch_op.create_index(batch_op.f("ix_vendor_longitude"), ["longitude"], unique=False)
        batch_op.create_index(batch_op.f("ix_vendor_latitude"), ["latitude"], unique=False)
        batch_op.drop_column("rating_sum")
        batch_op.drop_column("rating_count")

    with op.batch_alter_table("product", schema=None) as batch_op:
        batch_op.drop_index("ix_product_vendor_status")
        batch_op.drop_column("search_body")
        batch_op.drop_column("search_vendor")
        batch_op.drop_column("search_name")

    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.drop_column("longitude")
        batch_op.drop_column("latitude")

    op.drop_table("capacity_day")
