"""received objects' place as text: remote_objects.place holds `location.name` reduced to
text on receipt, filled here from the raw JSON of the rows received before

The offers page showed a received offer's place by reading its raw JSON and turning the
hostile `location.name` into text on every view; it now shows the stored column. Rows are
read by primary key in batches, so the memory used does not grow with the history. The
reduction is written out here (not imported from the services, which may change later):
`location.name` as text by html_to_text, at most 200 characters.

Revision ID: b6d4e8f1a2c3
Revises: 94b82ae0cf15
Create Date: 2026-12-10 12:00:00.000000
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from protocols.html import html_to_text

revision: str = "b6d4e8f1a2c3"
down_revision: str | None = "94b82ae0cf15"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Rows read and written per statement.
BATCH = 500
MAX_PLACE = 200


def _place(raw: str) -> str:
    """`location.name` of a received object's raw JSON as text ('' when it has none)."""
    try:
        document = json.loads(raw)
    except ValueError:
        return ""
    location = document.get("location") if isinstance(document, dict) else None
    name = location.get("name") if isinstance(location, dict) else None
    return html_to_text(name)[:MAX_PLACE] if isinstance(name, str) else ""


def _fill() -> None:
    """Set `place` on every row whose raw JSON names one, batch by batch."""
    connection = op.get_bind()
    table = sa.table(
        "remote_objects",
        sa.column("id", sa.String),
        sa.column("raw", sa.Text),
        sa.column("place", sa.String),
    )
    last = ""
    while True:
        rows = connection.execute(
            sa.select(table.c.id, table.c.raw)
            .where(table.c.id > last)
            .order_by(table.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        for row_id, raw in rows:
            place = _place(raw or "")
            if place:
                connection.execute(
                    table.update().where(table.c.id == row_id).values(place=place)
                )
        last = rows[-1][0]


def upgrade() -> None:
    with op.batch_alter_table("remote_objects", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("place", sa.String(length=200), server_default="", nullable=False)
        )
    _fill()


def downgrade() -> None:
    with op.batch_alter_table("remote_objects", schema=None) as batch_op:
        batch_op.drop_column("place")
