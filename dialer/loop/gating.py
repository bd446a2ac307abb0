"""The pre-dial gate as the dial loop calls it: ``dnc.gate.gate`` for each claimed lead, inside the claim's
transaction, so the audit record commits (or rolls back) with the claim it justified. It needs the SQL store (the
gate reads the lists and writes its ledger record); the simulator runs without a gate."""

from campaigns.dispatch.service import dnc_gate

__all__ = ["dnc_gate", "warm_gate"]


def warm_gate() -> None:
    """Load what the gate loads on first use (its modules, the zone tables: ``dnc.zones.load``) before a worker
    dials, so its first claim does not do it while holding SQLite's write lock."""
    import dnc.gate  # noqa: F401  (dnc_gate imports it on its first call)
    from dnc.zones import load

    load()
