"""deleted accounts and actors: residents delete their own account

Revision ID: 3f1c2a9d7e01
Revises: 5612a86fab0d
Create Date: 2026-12-08 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import node.storage.base

revision: str = '3f1c2a9d7e01'
down_revision: str | None = '5612a86fab0d'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('deleted_at', node.storage.base.UTCDateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table('local_actors', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('deleted_at', node.storage.base.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table('local_actors', schema=None) as batch_op:
        batch_op.drop_column('deleted_at')
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_column('deleted_at')
