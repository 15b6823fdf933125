"""buyer requests: what canteens need (buyer_request) and the vendors' offers (request_offer); a standing order's
first day (standing_order.starts_on), so an accepted offer starts when agreed; the zone's weekly counts of searches
that found few products (search_demand: words and counts only)

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-03 13:30:25.361384
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "buyer_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("zone_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit", sa.String(length=8), nullable=False),
        sa.Column("weekdays", sa.Integer(), nullable=False),
        sa.Column("delivery_slot", sa.Time(), nullable=False),
        sa.Column("expected_price", sa.Integer(), nullable=True),
        sa.Column("required_certificates", sa.JSON(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("notes", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("accepted_offer_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "category IN ('catering', 'snacks', 'frozen', 'drinks', 'fresh', 'uniforms', 'crafts', 'other')",
            name=op.f("ck_buyer_request_category_known"),
        ),
        sa.CheckConstraint(
            "status IN ('open', 'accepted', 'closed', 'hidden')", name=op.f("ck_buyer_request_status_known")
        ),
        sa.CheckConstraint(
            "unit IN ('porsi', 'box', 'kg', 'pcs', 'pack', 'lusin')", name=op.f("ck_buyer_request_unit_known")
        ),
        sa.CheckConstraint(
            "expected_price IS NULL OR expected_price > 0", name=op.f("ck_buyer_request_expected_price_positive")
        ),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_buyer_request_quantity_positive")),
        sa.CheckConstraint("weekdays > 0 AND weekdays <= 127", name=op.f("ck_buyer_request_weekdays_mask")),
        sa.ForeignKeyConstraint(["created_by_id"], ["user.id"], name=op.f("fk_buyer_request_created_by_id_user")),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisation.id"], name=op.f("fk_buyer_request_organisation_id_organisation")
        ),
        sa.ForeignKeyConstraint(["zone_id"], ["zone.id"], name=op.f("fk_buyer_request_zone_id_zone")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_buyer_request")),
    )
    with op.batch_alter_table("buyer_request", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_buyer_request_organisation_id"), ["organisation_id"], unique=False)
        batch_op.create_index("ix_buyer_request_zone_status", ["zone_id", "status", "expires_on"], unique=False)

    op.create_table(
        "request_offer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("vendor_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("unit_price", sa.Integer(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("notes", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("standing_order_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "status IN ('open', 'withdrawn', 'accepted', 'not_chosen')", name=op.f("ck_request_offer_status_known")
        ),
        sa.CheckConstraint("unit_price > 0", name=op.f("ck_request_offer_unit_price_positive")),
        sa.ForeignKeyConstraint(["product_id"], ["product.id"], name=op.f("fk_request_offer_product_id_product")),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["buyer_request.id"],
            name=op.f("fk_request_offer_request_id_buyer_request"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["standing_order_id"], ["standing_order.id"], name=op.f("fk_request_offer_standing_order_id_standing_order")
        ),
        sa.ForeignKeyConstraint(["vendor_id"], ["vendor.id"], name=op.f("fk_request_offer_vendor_id_vendor")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_offer")),
        sa.UniqueConstraint("request_id", "vendor_id", name="uq_request_offer_request_vendor"),
    )
    with op.batch_alter_table("request_offer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_request_offer_request_id"), ["request_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_request_offer_vendor_id"), ["vendor_id"], unique=False)

    with op.batch_alter_table("standing_order", schema=None) as batch_op:
        batch_op.add_column(sa.Column("starts_on", sa.Date(), nullable=True))

    op.create_table(
        "search_demand",
        sa.Column("zone_id", sa.Integer(), nullable=False),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("word", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("searches", sa.Integer(), nullable=False),
        sa.CheckConstraint("searches > 0", name=op.f("ck_search_demand_searches_positive")),
        sa.ForeignKeyConstraint(["zone_id"], ["zone.id"], name=op.f("fk_search_demand_zone_id_zone")),
        sa.PrimaryKeyConstraint("zone_id", "week_start", "word", name=op.f("pk_search_demand")),
    )


def downgrade() -> None:
    op.drop_table("search_demand")
    with op.batch_alter_table("standing_order", schema=None) as batch_op:
        batch_op.drop_column("starts_on")

    with op.batch_alter_table("request_offer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_request_offer_vendor_id"))
        batch_op.drop_index(batch_op.f("ix_request_offer_request_id"))

    op.drop_table("request_offer")
    with op.batch_alter_table("buyer_request", schema=None) as batch_op:
        batch_op.drop_index("ix_buyer_request_zone_status")
        batch_op.drop_index(batch_op.f("ix_buyer_request_organisation_id"))

    op.drop_table("buyer_request")
