"""Password hashes: scrypt from the standard library, stored as ``scrypt:N:r:p$salt$hex``.

That format is the one the console's accounts have always been stored in (the Flask toolkit's), so existing
passwords keep working; hashing lives here so ``campaigns`` needs nothing of the web framework. New hashes use
OWASP's current scrypt advice (N=2^17, r=8, p=1); a hash at a lower cost (the console's earlier N=2^15) still
verifies, and ``outdated`` tells the sign-in to store the password again at today's cost.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
import threading

N, R, P = 2 ** 17, 8, 1  # OWASP's advice: 128 MB and ~0.5-0.65 s per check here, 4x 2^15's (docs/deploy.md)
SALT_CHARS = string.ascii_letters + string.digits
SALT_LENGTH = 16


# One password hash at a time per process. Eight sign-ins at once would otherwise run eight scrypts (128 MB each) on
# a server's few cores, and a thread of this process holding SQLite's write lock for a millisecond of work would
# wait its turn for a core behind them, stalling every writer (the dial loop) for hundreds of milliseconds. Queued,
# the sign-ins take as long in all (the cores were the limit anyway) and everything else keeps a core.
_one_at_a_time = threading.Lock()


def _scrypt(password: str, salt: str, n: int, r: int, p: int) -> str:
    with _one_at_a_time:
        return _scrypt_now(password, salt, n, r, p)


def _scrypt_now(password: str, salt: str, n: int, r: int, p: int) -> str:
    return hashlib.scrypt(password.encode(), salt=salt.encode(), n=n, r=r, p=p, maxmem=132 * n * r * p).hex()


def hash_password(password: str) -> str:
    salt = "".join(secrets.choice(SALT_CHARS) for _ in range(SALT_LENGTH))
    return f"scrypt:{N}:{R}:{P}${salt}${_scrypt(password, salt, N, R, P)}"


def timing_hash() -> str:
    """A hash no password matches, at today's cost: checked for an unknown username so that sign-in takes as long
    as a wrong password (a constant: computing one at import cost every process half a second)."""
    return f"scrypt:{N}:{R}:{P}$timing-only-salt${'0' * 128}"


def outdated(stored: str) -> bool:
    """Whether ``stored`` is a hash below today's cost (scrypt with less work or memory, or pbkdf2): the sign-in
    that proves the password stores it again. Anything unreadable is not a hash and not outdated."""
    try:
        method = stored.split("$", 2)[0]
        name, *args = method.split(":")
        if name == "pbkdf2":
            return len(args) == 2 and stored.count("$") == 2
        if name != "scrypt" or stored.count("$") != 2:
            return False
        n, r, p = map(int, args)
    except ValueError:
        return False
    return n < N or n * r * p < N * R * P


def verify_password(stored: str, password: str) -> bool:
    """Whether ``password`` matches ``stored`` (scrypt, or a ``pbkdf2:HASH:ITERATIONS`` hash given precomputed);
    False for anything else."""
    try:
        method, salt, digest = stored.split("$", 2)
        name, *args = method.split(":")
        if name == "scrypt":
            n, r, p = map(int, args)
            computed = _scrypt(password, salt, n, r, p)
        elif name == "pbkdf2":
            algorithm, iterations = args
            with _one_at_a_time:
                computed = hashlib.pbkdf2_hmac(algorithm, password.encode(), salt.encode(), int(iterations)).hex()
        else:
            return False
        return hmac.compare_digest(computed, digest)
    except ValueError:
        return False
