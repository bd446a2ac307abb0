"""Abandon alerts: warnings before the legal cap, the fallback to progressive at it, and their webhook deliveries."""
