"""Database leases: one holder at a time for a periodic job, even across processes and hosts."""
