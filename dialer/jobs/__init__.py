"""Periodic jobs on APScheduler: the leased runner (``scheduler``), every job the worker runs (``catalog``) and the
jobs themselves, grouped by what they look after (the floor, compliance, reports)."""
