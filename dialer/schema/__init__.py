"""The database schema's history: the Alembic migrations (``migrations/versions``) and how to apply and add them.

Tables are declared in each feature's ``models.py`` (``campaigns/*/models.py``, ``dnc/tables.py``); a change to one
is followed by ``dialer db revision -m MSG --autogenerate``: the next revision of the one linear history."""
