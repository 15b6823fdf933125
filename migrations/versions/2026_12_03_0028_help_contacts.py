"""help_contact: where a zone's vendors get help on the readiness path (PLUT-KUMKM, BLK, BBPVP, halal companions),
kept by the zone's managers

Revision ID: 0028
Revises: 0024
Create Date: 2026-12-03 13:41:32.515648
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0028"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "help_contact",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("zone_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("opening_hours", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("added_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('plut', 'dinas_umkm', 'dinas_health', 'blk', 'bbpvp', 'halal_centre', 'halal_companion', 'other')",
            name=op.f("ck_help_contact_kind_known"),
        ),
        sa.ForeignKeyConstraint(
            ["added_by"], ["user.id"], name=op.f("fk_help_contact_added_by_user"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(["zone_id"], ["zone.id"], name=op.f("fk_help_contact_zone_id_zone")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_help_contact")),
    )
    with op.batch_alter_table("help_contact", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_help_contact_zone_id"), ["zone_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("help_contact", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_help_contact_zone_id"))

    op.drop_table("help_contact")
