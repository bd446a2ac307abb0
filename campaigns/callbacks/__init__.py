"""Callbacks: promised calls, only inside the lead's legal window, cancelled when the number goes DNC, never lost."""
