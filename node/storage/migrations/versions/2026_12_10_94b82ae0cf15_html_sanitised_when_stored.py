"""html sanitised when stored: the stored HTML of posts, received objects and remote actors
is sanitised again with the current rules, so pages can show it as it is

The pages show the stored HTML without cleaning it on every view; a node upgraded from a
version that stored some of it unsanitised (or with older, looser rules) gets it cleaned
here. sanitize_html is stable on its own output, so clean rows are left unchanged. Plain-text
columns beside these (a received object's name and status line, an actor's name) are text
taken from other fields and shown escaped: nothing to redo. Rows are read by primary key in
batches, so the memory used does not grow with the history.

Revision ID: 94b82ae0cf15
Revises: 7a1e5c3b9d20
Create Date: 2026-12-10 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from protocols.html import sanitize_html

revision: str = "94b82ae0cf15"
down_revision: str | None = "7a1e5c3b9d20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Rows read and written per statement.
BATCH = 500

# (table, HTML column, remote rows only): a local post's summary is its author's plain
# content warning (client API), not HTML; every other column listed holds HTML.
_COLUMNS: tuple[tuple[str, str, bool], ...] = (
    ("notes", "content", False),
    ("notes", "summary", True),
    ("remote_objects", "content", False),
    ("remote_actors", "summary", False),
)


def _sanitise(table_name: str, column: str, remote_only: bool) -> None:
    """Sanitise `column` of every row of `table_name` (only remote rows if `remote_only`),
    batch by batch, writing only the rows that change."""
    connection = op.get_bind()
    columns = [sa.column("id", sa.String), sa.column(column, sa.Text)]
    table = (
        sa.table(table_name, *columns, sa.column("local", sa.Boolean))
        if remote_only
        else sa.table(table_name, *columns)
    )
    last = ""
    while True:
        query = sa.select(table.c.id, table.c[column]).where(table.c.id > last)
        if remote_only:
            query = query.where(table.c.local.is_(False))
        rows = connection.execute(query.order_by(table.c.id).limit(BATCH)).all()
        if not rows:
            return
        for row_id, value in rows:
            cleaned = sanitize_html(value) if value else value
            if cleaned != value:
                connection.execute(
                    table.update().where(table.c.id == row_id).values({column: cleaned})
                )
        last = rows[-1][0]


def upgrade() -> None:
    for table_name, column, remote_only in _COLUMNS:
        _sanitise(table_name, column, remote_only)


def downgrade() -> None:
    # Nothing to undo: the cleaned HTML is what this version and the previous one store.
    pass
