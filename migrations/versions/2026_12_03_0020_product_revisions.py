"""product revisions: a change to an approved listing's name, description, category, certificates or photos waits
for a manager as a pending revision (at most one a product, a partial unique index) while the approved version
stays on sale; its proposed photos are kept beside it until they become the product's

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 10:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    op.create_table(
        "product_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("certificate_ids", sa.JSON(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("submitted_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("decided_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "category IN ('catering', 'snacks', 'frozen', 'drinks', 'fresh', 'uniforms', 'crafts', 'other')",
            name=op.f("ck_product_revision_category_known"),
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'rejected', 'withdrawn')",
            name=op.f("ck_product_revision_status_known"),
        ),
        sa.ForeignKeyConstraint(["decided_by_id"], ["user.id"], name=op.f("fk_product_revision_decided_by_id_user")),
        sa.ForeignKeyConstraint(
            ["product_id"], ["product.id"], name=op.f("fk_product_revision_product_id_product"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_revision")),
    )
    with op.batch_alter_table("product_revision", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_product_revision_product_id"), ["product_id"], unique=False)
        batch_op.create_index(
            "uq_product_revision_pending",
            ["product_id"],
            unique=True,
            sqlite_where=PENDING,
            postgresql_where=PENDING,
        )

    op.create_table(
        "product_revision_photo",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("revision_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("thumb_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("detail_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "position >= 0 AND position < 5", name=op.f("ck_product_revision_photo_position_within_limit")
        ),
        sa.ForeignKeyConstraint(
            ["revision_id"],
            ["product_revision.id"],
            name=op.f("fk_product_revision_photo_revision_id_product_revision"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_revision_photo")),
        sa.UniqueConstraint("revision_id", "position", name=op.f("uq_product_revision_photo_revision_position")),
    )
    with op.batch_alter_table("product_revision_photo", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_product_revision_photo_revision_id"), ["revision_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("product_revision_photo", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_product_revision_photo_revision_id"))

    op.drop_table("product_revision_photo")
    with op.batch_alter_table("product_revision", schema=None) as batch_op:
        batch_op.drop_index("uq_product_revision_pending", sqlite_where=PENDING, postgresql_where=PENDING)
        batch_op.drop_index(batch_op.f("ix_product_revision_product_id"))

    op.drop_table("product_revision")
