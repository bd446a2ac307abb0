"""What the live floor shows, read in one place every few seconds: agents by state, calls, today's figures, and the
funnel's warnings."""
