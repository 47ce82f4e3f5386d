"""`maillage db upgrade`: apply migrations and say where the schema stands."""

from node.storage.engine import make_engine
from node.storage.errors import reporting_database_errors, safe_url
from node.storage.migrate import schema_state, upgrade_database


async def upgrade_and_report(url: str) -> str:
    """Apply pending migrations; returns a one-line report for the admin."""
    engine = make_engine(url)
    try:
        async with reporting_database_errors(url):
            before = await schema_state(engine)
            if before.is_current:
                return f"{safe_url(url)}: schema already up to date ({before.head})."
            await upgrade_database(engine)
    finally:
        await engine.dispose()
    return f"{safe_url(url)}: schema upgraded from {before.current or 'empty'} to {before.head}."
