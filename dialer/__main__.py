"""``python -m dialer ...``: the same as the ``dialer`` command (for scripts that only know the interpreter)."""

import sys

from dialer.cli import main

sys.exit(main())
