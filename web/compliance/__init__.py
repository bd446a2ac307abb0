"""The compliance officer's console: suppression sources and their ages, number look-up with every reason and the
full decision history, internal DNC add/remove, scrub ledgers, zero-violation reconciliation, the opt-out SLA,
the 30-day abandon report, the audit chain, and CSV exports of each.

Every verdict comes from ``dnc`` (``gate.evaluate``, ``reports``, ``ledger.verify``); the views only gather and show.
"""

from flask import Blueprint

bp = Blueprint("compliance", __name__, url_prefix="/compliance")

from web.compliance import lookup, status, suppression, texts, views  # noqa: E402,F401  (their routes register on bp)
