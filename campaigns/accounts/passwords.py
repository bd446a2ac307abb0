"""Password hashes: scrypt from the standard library, stored as ``scrypt:N:r:p$salt$hex``.

That format is the one the console's accounts have always been stored in (the Flask toolkit's), so existing
passwords keep working; hashing lives here so ``campaigns`` needs nothing of the web framework.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
import threading

N, R, P = 2 ** 15, 8, 1  # about 0.1-0.2 s and 32 MB per check: slow for a guesser, fine for a sign-in
SALT_CHARS = string.ascii_letters + string.digits
SALT_LENGTH = 16


# One password hash at a time per process. Eight sign-ins at once would otherwise run eight scrypts (32 MB each) on
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
