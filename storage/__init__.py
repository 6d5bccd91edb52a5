"""Persistence for photo-talk: SQLAlchemy async models, migrations and query functions.

Use `engine.create_engine(url)`, `migrate.upgrade_database(url)` and the functions in
`queries`; everything handed back is a plain record from `records`.
"""
