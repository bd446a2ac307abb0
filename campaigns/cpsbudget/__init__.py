"""The account's calls-per-second budget, shared by every worker of one database (a send clock per account)."""
