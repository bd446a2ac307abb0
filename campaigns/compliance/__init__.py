"""What the campaigns tell the compliance side: do-not-call requests taken on a call, and the placed calls the
reconciliation reports check."""
