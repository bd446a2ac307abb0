"""Suppression tables (internal DNC, registry loads, consent, ledger) are defined by the DNC engine."""

import dnc.tables  # noqa: F401
from dnc.db import DncBase  # noqa: F401
