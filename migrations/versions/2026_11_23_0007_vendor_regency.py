"""vendor regency: the vendor's kabupaten/kota, so reports tell the zone's own regency's UMKM from neighbours';
existing vendors get their zone's regency

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 16:13:37.564988
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("vendor", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("regency", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False, server_default="")
        )
    op.execute("UPDATE vendor SET regency = (SELECT zone.regency FROM zone WHERE zone.id = vendor.zone_id)")


def downgrade() -> None:
    with op.batch_alter_table("vendor", schema=None) as batch_op:
        batch_op.drop_column("regency")
