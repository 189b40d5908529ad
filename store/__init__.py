"""The data store: Peewee models over SQLite or PostgreSQL, the fixture loader and demo data."""
