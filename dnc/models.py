"""Suppression tables (internal DNC, registry loads, consent, ledger) are defined by the DNC engine."""

from dnc.db import DncBase  # noqa: F401
