"""Pure engines: compile JSON metadata once, evaluate it many times.

Nothing here imports Flask, marshmallow or the SQLAlchemy ORM, opens a database session, reads the
clock or performs I/O (import-linter enforces it). Time, users and serial numbers come in as
arguments; effects and traces go out.
"""
