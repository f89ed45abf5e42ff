"""Alembic migrations shipped inside the package (``tangram db upgrade`` applies them)."""
