"""coordinator: index of followed territories' objects, full-text search, discovered territories

Revision ID: c0a1d2e3f4b5
Revises: a0b7add4f9c7
Create Date: 2026-12-07 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import node.storage.base

revision: str = 'c0a1d2e3f4b5'
down_revision: str | None = 'a0b7add4f9c7'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('coordination_entries',
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('uri', sa.String(length=2048), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('territory_uri', sa.String(length=2048), nullable=False),
    sa.Column('territory_name', sa.String(length=2048), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('folded', sa.Text(), nullable=False),
    sa.Column('theme', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=32), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('evaluates', sa.String(length=2048), nullable=True),
    sa.Column('derived_from', sa.Text(), nullable=False),
    sa.Column('indicators', sa.Text(), nullable=False),
    sa.Column('url', sa.String(length=2048), nullable=False),
    sa.Column('published', node.storage.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coordination_entries')),
    sa.UniqueConstraint('uri', name=op.f('uq_coordination_entries_uri'))
    )
    with op.batch_alter_table('coordination_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_coordination_entries_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_coordination_entries_territory_uri'), ['territory_uri'], unique=False)
        batch_op.create_index(batch_op.f('ix_coordination_entries_theme'), ['theme'], unique=False)
        batch_op.create_index(batch_op.f('ix_coordination_entries_evaluates'), ['evaluates'], unique=False)
        batch_op.create_index(batch_op.f('ix_coordination_entries_published'), ['published'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        # full text over title and body, folded (no accents, lower case) by the node: 'simple'
        # then keeps every language's words as they are, and needs no extension
        op.execute(
            "ALTER TABLE coordination_entries ADD COLUMN search tsvector GENERATED ALWAYS AS "
            "(to_tsvector('simple', folded)) STORED"
        )
        op.execute(
            "CREATE INDEX ix_coordination_entries_search ON coordination_entries USING GIN (search)"
        )
    else:
        # an external-content FTS5 table over the entries, kept in step by triggers
        op.execute(
            "CREATE VIRTUAL TABLE coordination_search USING fts5(title, body, "
            "content='coordination_entries', content_rowid='rowid', "
            "tokenize='unicode61 remove_diacritics 2')"
        )
        op.execute(
            "CREATE TRIGGER coordination_entries_ai AFTER INSERT ON coordination_entries BEGIN "
            "INSERT INTO coordination_search(rowid, title, body) VALUES (new.rowid, new.title, new.body); END"
        )
        op.execute(
            "CREATE TRIGGER coordination_entries_ad AFTER DELETE ON coordination_entries BEGIN "
            "INSERT INTO coordination_search(coordination_search, rowid, title, body) "
            "VALUES ('delete', old.rowid, old.title, old.body); END"
        )
        op.execute(
            "CREATE TRIGGER coordination_entries_au AFTER UPDATE ON coordination_entries BEGIN "
            "INSERT INTO coordination_search(coordination_search, rowid, title, body) "
            "VALUES ('delete', old.rowid, old.title, old.body); "
            "INSERT INTO coordination_search(rowid, title, body) VALUES (new.rowid, new.title, new.body); END"
        )
    op.create_table('coordination_digests',
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('note_uri', sa.String(length=2048), nullable=False),
    sa.Column('since', node.storage.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('published_at', node.storage.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coordination_digests'))
    )
    with op.batch_alter_table('coordination_digests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_coordination_digests_published_at'), ['published_at'], unique=False)
    op.create_table('discovered_territories',
    sa.Column('uri', sa.String(length=2048), nullable=False),
    sa.Column('found_via', sa.String(length=2048), nullable=False),
    sa.Column('found_at', node.storage.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.PrimaryKeyConstraint('uri', name=op.f('pk_discovered_territories'))
    )


def downgrade() -> None:
    op.drop_table('discovered_territories')
    op.drop_table('coordination_digests')
    if op.get_bind().dialect.name != 'postgresql':
        for trigger in ('ai', 'ad', 'au'):
            op.execute(f"DROP TRIGGER IF EXISTS coordination_entries_{trigger}")
        op.execute("DROP TABLE IF EXISTS coordination_search")
    op.drop_table('coordination_entries')
