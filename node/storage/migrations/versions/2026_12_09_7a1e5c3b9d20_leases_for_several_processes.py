"""leases for several processes: inbox items and delivery hosts are claimed for a while

Revision ID: 7a1e5c3b9d20
Revises: 5df12932bec8
Create Date: 2026-12-09 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import node.storage.base

revision: str = '7a1e5c3b9d20'
down_revision: str | None = '5df12932bec8'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('inbox_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=128), nullable=True))
        batch_op.add_column(
            sa.Column('lease_until', node.storage.base.UTCDateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table('delivery_cursors', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner', sa.String(length=128), nullable=True))
        batch_op.add_column(
            sa.Column('lease_until', node.storage.base.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table('delivery_cursors', schema=None) as batch_op:
        batch_op.drop_column('lease_until')
        batch_op.drop_column('owner')
    with op.batch_alter_table('inbox_items', schema=None) as batch_op:
        batch_op.drop_column('lease_until')
        batch_op.drop_column('claimed_by')
