"""vendors certificates products

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 02:43:46.226890
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "vendor",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("zone_id", sa.Integer(), nullable=False),
        sa.Column("business_name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("owner_name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("whatsapp", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("kecamatan", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("desa", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("delivery_radius_km", sa.Float(), nullable=False),
        sa.Column("operating_days", sa.Integer(), nullable=False),
        sa.Column("opens_at", sa.Time(), nullable=True),
        sa.Column("closes_at", sa.Time(), nullable=True),
        sa.Column("story", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("photo_thumb_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("photo_detail_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("daily_capacity", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.CheckConstraint("status IN ('active', 'suspended')", name=op.f("ck_vendor_status_known")),
        sa.CheckConstraint(
            "daily_capacity IS NULL OR daily_capacity >= 0", name=op.f("ck_vendor_capacity_not_negative")
        ),
        sa.CheckConstraint("delivery_radius_km > 0 AND delivery_radius_km <= 100", name=op.f("ck_vendor_radius_range")),
        sa.CheckConstraint("operating_days >= 0 AND operating_days <= 127", name=op.f("ck_vendor_days_mask")),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_vendor_user_id_user")),
        sa.ForeignKeyConstraint(["zone_id"], ["zone.id"], name=op.f("fk_vendor_zone_id_zone")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vendor")),
        sa.UniqueConstraint("user_id", name=op.f("uq_vendor_user_id")),
    )
    with op.batch_alter_table("vendor", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vendor_latitude"), ["latitude"], unique=False)
        batch_op.create_index(batch_op.f("ix_vendor_longitude"), ["longitude"], unique=False)
        batch_op.create_index(batch_op.f("ix_vendor_zone_id"), ["zone_id"], unique=False)

    op.create_table(
        "certificate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vendor_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("number", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("issuer", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=True),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("document_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("document_media_type", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("verified_by_id", sa.Integer(), nullable=True),
        sa.Column("verified_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('nib', 'halal', 'pirt', 'bpom', 'sni', 'training', 'competency')",
            name=op.f("ck_certificate_kind_known"),
        ),
        sa.CheckConstraint(
            "status IN ('unverified', 'verified', 'rejected')", name=op.f("ck_certificate_status_known")
        ),
        sa.CheckConstraint(
            "expires_on IS NULL OR issued_on IS NULL OR expires_on >= issued_on",
            name=op.f("ck_certificate_dates_ordered"),
        ),
        sa.ForeignKeyConstraint(["vendor_id"], ["vendor.id"], name=op.f("fk_certificate_vendor_id_vendor")),
        sa.ForeignKeyConstraint(["verified_by_id"], ["user.id"], name=op.f("fk_certificate_verified_by_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificate")),
        sa.UniqueConstraint("vendor_id", "kind", "number", name="uq_certificate_vendor_kind_number"),
    )
    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_certificate_expires_on"), ["expires_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_certificate_vendor_id"), ["vendor_id"], unique=False)

    op.create_table(
        "product",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vendor_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("unit", sa.String(length=8), nullable=False),
        sa.Column("price", sa.Integer(), nullable=False),
        sa.Column("min_order_qty", sa.Integer(), nullable=False),
        sa.Column("fulfilment", sa.String(length=16), nullable=False),
        sa.Column("stock", sa.Integer(), nullable=True),
        sa.Column("lead_time_hours", sa.Integer(), nullable=True),
        sa.Column("order_cutoff", sa.Time(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("submitted_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("reviewed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("approved_snapshot", sa.JSON(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "(fulfilment = 'ready_stock') = (stock IS NOT NULL)", name=op.f("ck_product_stock_for_ready_goods")
        ),
        sa.CheckConstraint(
            "category IN ('catering', 'snacks', 'frozen', 'drinks', 'fresh', 'uniforms', 'crafts', 'other')",
            name=op.f("ck_product_category_known"),
        ),
        sa.CheckConstraint("fulfilment IN ('made_to_order', 'ready_stock')", name=op.f("ck_product_fulfilment_known")),
        sa.CheckConstraint(
            "status IN ('draft', 'pending_review', 'live', 'rejected', 'paused')", name=op.f("ck_product_status_known")
        ),
        sa.CheckConstraint(
            "unit IN ('porsi', 'box', 'kg', 'pcs', 'pack', 'lusin')", name=op.f("ck_product_unit_known")
        ),
        sa.CheckConstraint(
            "lead_time_hours IS NULL OR order_cutoff IS NULL", name=op.f("ck_product_one_lead_time_rule")
        ),
        sa.CheckConstraint("min_order_qty >= 1", name=op.f("ck_product_min_order_positive")),
        sa.CheckConstraint("price > 0", name=op.f("ck_product_price_positive")),
        sa.CheckConstraint("stock IS NULL OR stock >= 0", name=op.f("ck_product_stock_not_negative")),
        sa.ForeignKeyConstraint(["vendor_id"], ["vendor.id"], name=op.f("fk_product_vendor_id_vendor")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product")),
    )
    with op.batch_alter_table("product", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_product_category"), ["category"], unique=False)
        batch_op.create_index(batch_op.f("ix_product_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_product_vendor_id"), ["vendor_id"], unique=False)

    op.create_table(
        "price_tier",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("min_quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price", sa.Integer(), nullable=False),
        sa.CheckConstraint("min_quantity >= 2", name=op.f("ck_price_tier_quantity_from_two")),
        sa.CheckConstraint("unit_price > 0", name=op.f("ck_price_tier_price_positive")),
        sa.ForeignKeyConstraint(
            ["product_id"], ["product.id"], name=op.f("fk_price_tier_product_id_product"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_price_tier")),
        sa.UniqueConstraint("product_id", "min_quantity", name="uq_price_tier_product_quantity"),
    )
    with op.batch_alter_table("price_tier", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_price_tier_product_id"), ["product_id"], unique=False)

    op.create_table(
        "product_certificate",
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("certificate_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["certificate_id"],
            ["certificate.id"],
            name=op.f("fk_product_certificate_certificate_id_certificate"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["product.id"], name=op.f("fk_product_certificate_product_id_product"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("product_id", "certificate_id", name=op.f("pk_product_certificate")),
    )
    with op.batch_alter_table("product_certificate", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_product_certificate_certificate_id"), ["certificate_id"], unique=False)

    op.create_table(
        "product_photo",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("thumb_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("detail_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"], ["product.id"], name=op.f("fk_product_photo_product_id_product"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_photo")),
    )
    with op.batch_alter_table("product_photo", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_product_photo_product_id"), ["product_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("product_photo", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_product_photo_product_id"))

    op.drop_table("product_photo")
    with op.batch_alter_table("product_certificate", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_product_certificate_certificate_id"))

    op.drop_table("product_certificate")
    with op.batch_alter_table("price_tier", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_price_tier_product_id"))

    op.drop_table("price_tier")
    with op.batch_alter_table("product", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_product_vendor_id"))
        batch_op.drop_index(batch_op.f("ix_product_status"))
        batch_op.drop_index(batch_op.f("ix_product_category"))

    op.drop_table("product")
    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_certificate_vendor_id"))
        batch_op.drop_index(batch_op.f("ix_certificate_expires_on"))

    op.drop_table("certificate")
    with op.batch_alter_table("vendor", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vendor_zone_id"))
        batch_op.drop_index(batch_op.f("ix_vendor_longitude"))
        batch_op.drop_index(batch_op.f("ix_vendor_latitude"))

    op.drop_table("vendor")
