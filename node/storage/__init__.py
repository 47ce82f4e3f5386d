"""SQLAlchemy models, the engine, repositories and alembic migrations."""
