"""catalogue entry: the catalogue's read model, `catalogue_entry` (buyer-visible products as their result cards
show them) and `vendor_reach` (each active vendor under every 0.05° cell its delivery box overlaps), filled
from the tables of record

Its text index lives outside the models, like product's (0004):
- SQLite: an FTS5 table `catalogue_search` over the entry's search columns (content='catalogue_entry'), kept by
  triggers; rows are only inserted and deleted (catalog.entries.refresh_entries), an update trigger is there
  for safety.
- PostgreSQL: a stored generated tsvector `search_document` with a GIN index; and `ix_vendor_reach_cell`, the
  reach's key with its columns included, so that a cell's vendors are an index-only scan.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 07:00:11.239506
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEARCH_COLUMNS = "search_text, search_filters"
PG_DOCUMENT = "to_tsvector('simple'::regconfig, search_text || ' ' || search_filters)"
SQLITE_FTS = [
    (
        f"CREATE VIRTUAL TABLE catalogue_search USING fts5({SEARCH_COLUMNS}, content='catalogue_entry', "
        "content_rowid='product_id', tokenize='unicode61 remove_diacritics 2', prefix='2 3')"
    ),
    (
        "CREATE TRIGGER catalogue_search_insert AFTER INSERT ON catalogue_entry BEGIN "
        f"INSERT INTO catalogue_search(rowid, {SEARCH_COLUMNS}) VALUES (new.product_id, new.search_text, "
        "new.search_filters); END"
    ),
    (
        "CREATE TRIGGER catalogue_search_delete AFTER DELETE ON catalogue_entry BEGIN "
        f"INSERT INTO catalogue_search(catalogue_search, rowid, {SEARCH_COLUMNS}) VALUES ('delete', old.product_id, "
        "old.search_text, old.search_filters); END"
    ),
    (
        "CREATE TRIGGER catalogue_search_update AFTER UPDATE ON catalogue_entry BEGIN "
        f"INSERT INTO catalogue_search(catalogue_search, rowid, {SEARCH_COLUMNS}) VALUES ('delete', old.product_id, "
        "old.search_text, old.search_filters); "
        f"INSERT INTO catalogue_search(rowid, {SEARCH_COLUMNS}) VALUES (new.product_id, new.search_text, "
        "new.search_filters); END"
    ),
]


def upgrade() -> None:
    op.create_table(
        "vendor_reach",
        sa.Column("cell_lat", sa.Integer(), nullable=False),
        sa.Column("cell_lon", sa.Integer(), nullable=False),
        sa.Column("vendor_id", sa.Integer(), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("delivery_radius_km", sa.Float(), nullable=False),
        sa.Column("rating_key", sa.Float(), nullable=False),
        sa.Column("rating_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["vendor_id"], ["vendor.id"], name=op.f("fk_vendor_reach_vendor_id_vendor"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("cell_lat", "cell_lon", "vendor_id", name=op.f("pk_vendor_reach")),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("vendor_reach", schema=None) as batch_op:
        batch_op.create_index("ix_vendor_reach_vendor", ["vendor_id"], unique=False)
    op.create_table(
        "catalogue_entry",
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("vendor_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("unit", sa.String(length=8), nullable=False),
        sa.Column("price", sa.Integer(), nullable=False),
        sa.Column("min_order_qty", sa.Integer(), nullable=False),
        sa.Column("fulfilment", sa.String(length=16), nullable=False),
        sa.Column("lead_time_hours", sa.Integer(), nullable=True),
        sa.Column("order_cutoff", sa.Time(), nullable=True),
        sa.Column("best_tier_quantity", sa.Integer(), nullable=True),
        sa.Column("best_tier_price", sa.Integer(), nullable=True),
        sa.Column("thumb_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("halal", sa.Boolean(), nullable=False),
        sa.Column("certified", sa.Boolean(), nullable=False),
        sa.Column("badge_kinds", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("visible_until", sa.Date(), nullable=True),
        sa.Column("vendor_name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("kecamatan", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("delivery_radius_km", sa.Float(), nullable=False),
        sa.Column("operating_days", sa.Integer(), nullable=False),
        sa.Column("daily_capacity", sa.Integer(), nullable=True),
        sa.Column("rating_count", sa.Integer(), nullable=False),
        sa.Column("rating_sum", sa.Integer(), nullable=False),
        sa.Column("search_name", sqlmodel.sql.sqltypes.AutoString(length=201), nullable=False),
        sa.Column("search_vendor", sqlmodel.sql.sqltypes.AutoString(length=201), nullable=False),
        sa.Column("search_text", sqlmodel.sql.sqltypes.AutoString(length=2803), nullable=False),
        sa.Column("search_filters", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"], ["product.id"], name=op.f("fk_catalogue_entry_product_id_product"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["vendor_id"], ["vendor.id"], name=op.f("fk_catalogue_entry_vendor_id_vendor"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("product_id", name=op.f("pk_catalogue_entry")),
    )
    with op.batch_alter_table("catalogue_entry", schema=None) as batch_op:
        batch_op.create_index("ix_catalogue_entry_price", ["price", "product_id"], unique=False)
        batch_op.create_index("ix_catalogue_entry_vendor_product", ["vendor_id", "product_id"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        # A cell's vendors read from the index alone (SQLite stores the table itself in key order instead).
        op.execute(
            "CREATE INDEX ix_vendor_reach_cell ON vendor_reach (cell_lat, cell_lon, vendor_id) "
            "INCLUDE (latitude, longitude, delivery_radius_km, rating_key, rating_count)"
        )
        op.execute(
            f"ALTER TABLE catalogue_entry ADD COLUMN search_document tsvector GENERATED ALWAYS AS ({PG_DOCUMENT}) STORED"
        )
        op.execute("CREATE INDEX ix_catalogue_entry_search_document ON catalogue_entry USING gin (search_document)")
    else:
        for statement in SQLITE_FTS:
            op.execute(statement)
    _fill()


def _fill() -> None:
    """Entries and reach from the existing rows, by the same code that keeps them in step from now on (the rule
    of what buyers see has one home, catalog.entries)."""
    from backend.catalog.entries import ENTRY_COLUMNS, entry_rows, reach_rows
    from backend.catalog.models import CatalogueEntry, VendorReach
    from backend.vendors.models import Vendor

    connection = op.get_bind()
    if connection.dialect.name == "postgresql":
        # Planned without statistics, the certificate lookups of each product may become whole-table scans.
        op.execute("ANALYZE vendor, product, product_certificate, certificate, price_tier, product_photo")
    connection.execute(sa.insert(CatalogueEntry).from_select(ENTRY_COLUMNS, entry_rows()))
    # Only the columns this revision knows (a later one may add others to the model).
    read = ("id", "status", "latitude", "longitude", "delivery_radius_km", "rating_sum", "rating_count")
    rows = []
    for vendor in connection.execute(sa.select(*(getattr(Vendor, name) for name in read))).all():
        rows.extend(reach_rows(Vendor(**vendor._mapping)))
    for start in range(0, len(rows), 10_000):
        connection.execute(sa.insert(VendorReach), rows[start : start + 10_000])


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.execute("DROP TABLE IF EXISTS catalogue_search")
    with op.batch_alter_table("catalogue_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_catalogue_entry_vendor_product")
        batch_op.drop_index("ix_catalogue_entry_price")
    op.drop_table("catalogue_entry")
    with op.batch_alter_table("vendor_reach", schema=None) as batch_op:
        batch_op.drop_index("ix_vendor_reach_vendor")
    op.drop_table("vendor_reach")
