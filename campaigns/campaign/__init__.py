"""The campaign itself: its settings, dispositions, call script and lead-strategy settings, and the use cases that
create, find and change it."""
