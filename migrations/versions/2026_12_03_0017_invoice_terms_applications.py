"""invoice terms applications: a canteen asks its zone's manager for invoice terms (company name, NPWP,
billing address, 14 or 30 days) with the documents the manager asks for; the manager grants, asks for documents or
refuses with a reason. At most one open application a canteen (a partial unique index).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 07:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "invoice_terms_application",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("applicant_id", sa.Integer(), nullable=False),
        sa.Column("company_name", sqlmodel.sql.sqltypes.AutoString(length=160), nullable=False),
        sa.Column("npwp", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("billing_address", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("requested_days", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("manager_note", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("granted_days", sa.Integer(), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "status IN ('submitted', 'documents_requested', 'granted', 'refused')",
            name=op.f("ck_invoice_terms_application_status_known"),
        ),
        sa.CheckConstraint(
            "granted_days IS NULL OR granted_days IN (14, 30)",
            name=op.f("ck_invoice_terms_application_granted_days_known"),
        ),
        sa.CheckConstraint(
            "requested_days IN (14, 30)", name=op.f("ck_invoice_terms_application_requested_days_known")
        ),
        sa.ForeignKeyConstraint(
            ["applicant_id"], ["user.id"], name=op.f("fk_invoice_terms_application_applicant_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["user.id"], name=op.f("fk_invoice_terms_application_decided_by_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_invoice_terms_application_organisation_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice_terms_application")),
    )
    with op.batch_alter_table("invoice_terms_application", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_invoice_terms_application_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(
            "uq_invoice_terms_application_open",
            ["organisation_id"],
            unique=True,
            sqlite_where=sa.text("status IN ('submitted', 'documents_requested')"),
            postgresql_where=sa.text("status IN ('submitted', 'documents_requested')"),
        )

    op.create_table(
        "invoice_terms_document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("document_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("media_type", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["invoice_terms_application.id"],
            name=op.f("fk_invoice_terms_document_application_id_invoice_terms_application"),
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"], ["user.id"], name=op.f("fk_invoice_terms_document_uploaded_by_id_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice_terms_document")),
    )
    with op.batch_alter_table("invoice_terms_document", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_invoice_terms_document_application_id"), ["application_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("invoice_terms_document", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invoice_terms_document_application_id"))

    op.drop_table("invoice_terms_document")
    with op.batch_alter_table("invoice_terms_application", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_invoice_terms_application_open",
            sqlite_where=sa.text("status IN ('submitted', 'documents_requested')"),
            postgresql_where=sa.text("status IN ('submitted', 'documents_requested')"),
        )
        batch_op.drop_index(batch_op.f("ix_invoice_terms_application_organisation_id"))

    op.drop_table("invoice_terms_application")
