"""Console accounts: users, roles, sign-in attempts and server-side sessions."""
