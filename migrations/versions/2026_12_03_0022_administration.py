"""administration: managers invited by the admin, one-time links to set a new password, the platform's bank
account as the admin set it

Revision ID: 0022
Revises: 0020
Create Date: 2026-12-03 10:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0022"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "manager_invitation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("zone_id", sa.Integer(), nullable=False),
        sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("full_name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("invited_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("accepted_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("accepted_by_id", sa.Integer(), nullable=True),
        sa.Column("withdrawn_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["accepted_by_id"], ["user.id"], name=op.f("fk_manager_invitation_accepted_by_id_user")
        ),
        sa.ForeignKeyConstraint(["invited_by_id"], ["user.id"], name=op.f("fk_manager_invitation_invited_by_id_user")),
        sa.ForeignKeyConstraint(["zone_id"], ["zone.id"], name=op.f("fk_manager_invitation_zone_id_zone")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_manager_invitation")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_manager_invitation_token_hash")),
    )
    with op.batch_alter_table("manager_invitation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_manager_invitation_phone"), ["phone"], unique=False)
        batch_op.create_index(batch_op.f("ix_manager_invitation_zone_id"), ["zone_id"], unique=False)

    op.create_table(
        "password_reset_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("used_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["created_by_id"], ["user.id"], name=op.f("fk_password_reset_link_created_by_id_user")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_password_reset_link_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_password_reset_link")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_password_reset_link_token_hash")),
    )
    with op.batch_alter_table("password_reset_link", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_password_reset_link_user_id"), ["user_id"], unique=False)

    op.create_table(
        "platform_bank_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bank_name", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("account_number", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("account_holder", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["user.id"], name=op.f("fk_platform_bank_account_updated_by_id_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_bank_account")),
    )


def downgrade() -> None:
    op.drop_table("platform_bank_account")
    with op.batch_alter_table("password_reset_link", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_password_reset_link_user_id"))
    op.drop_table("password_reset_link")
    with op.batch_alter_table("manager_invitation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_manager_invitation_zone_id"))
        batch_op.drop_index(batch_op.f("ix_manager_invitation_phone"))
    op.drop_table("manager_invitation")
