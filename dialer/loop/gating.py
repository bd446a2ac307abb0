"""The pre-dial gate as the dial loop calls it: ``dnc.gate.gate`` for each claimed lead, inside the claim's
transaction, so the audit record commits (or rolls back) with the claim it justified. It needs the SQL store (the
gate reads the lists and writes its ledger record); the simulator runs without a gate."""

from campaigns.dispatch.service import dnc_gate

__all__ = ["dnc_gate"]
