"""The one exception type for mistakes a user can fix (bad file, unknown campaign, malformed number …).

It lives in ``dnc`` because that is the lowest package; ``campaigns`` and ``dialer`` raise it too, and the CLI and
the console turn it into one clear line instead of a traceback.
"""


class UserError(Exception):
    """A mistake the user can fix; the message names the problem (file, line, column, field)."""
