"""whatsapp_link, whatsapp_message, whatsapp_inbound: vendors' linked WhatsApp numbers, the messages sent to them,
and the messages received (each WhatsApp message id once)

Revision ID: 0032
Revises: 0033
Create Date: 2026-12-03 16:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0032"
down_revision: str | None = "0033"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "whatsapp_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("linked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("pending_phone", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("code_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("code_sent_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("code_expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("wrong_attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_whatsapp_link_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_whatsapp_link")),
        sa.UniqueConstraint("phone", name=op.f("uq_whatsapp_link_phone")),
        sa.UniqueConstraint("user_id", name=op.f("uq_whatsapp_link_user_id")),
    )
    op.create_table(
        "whatsapp_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("sent_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("given_up_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("provider_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_whatsapp_message")),
    )
    with op.batch_alter_table("whatsapp_message", schema=None) as batch_op:
        batch_op.create_index("ix_whatsapp_message_due", ["sent_at", "next_attempt_at"], unique=False)
    op.create_table(
        "whatsapp_inbound",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("text", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("received_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("handled_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_whatsapp_inbound")),
        sa.UniqueConstraint("message_id", name=op.f("uq_whatsapp_inbound_message_id")),
    )
    with op.batch_alter_table("whatsapp_inbound", schema=None) as batch_op:
        batch_op.create_index("ix_whatsapp_inbound_unhandled", ["handled_at", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("whatsapp_inbound", schema=None) as batch_op:
        batch_op.drop_index("ix_whatsapp_inbound_unhandled")
    op.drop_table("whatsapp_inbound")
    with op.batch_alter_table("whatsapp_message", schema=None) as batch_op:
        batch_op.drop_index("ix_whatsapp_message_due")
    op.drop_table("whatsapp_message")
    op.drop_table("whatsapp_link")
