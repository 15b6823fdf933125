"""search indexes: the certificates that are not verified (a partial index), and active vendors' delivery radii,
so a catalogue search or a product page no longer reads every certificate and every vendor to apply the
visibility rule and size the bounding box (bench/load.py, 10,000 vendors and 200,000 products)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 17:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NOT_VERIFIED = sa.text("status <> 'verified'")


def upgrade() -> None:
    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.create_index(
            "ix_certificate_not_verified",
            ["id"],
            unique=False,
            postgresql_where=NOT_VERIFIED,
            sqlite_where=NOT_VERIFIED,
        )
    with op.batch_alter_table("vendor", schema=None) as batch_op:
        batch_op.create_index("ix_vendor_status_radius", ["status", "delivery_radius_km"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("vendor", schema=None) as batch_op:
        batch_op.drop_index("ix_vendor_status_radius")
    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.drop_index("ix_certificate_not_verified")
