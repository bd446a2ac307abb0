"""Imports every module that defines tables, so Alembic and the tests see the whole schema.

A feature that adds a table module adds one import line here.
"""

import campaigns.abandon_alerts  # noqa: F401
import campaigns.agent_lines  # noqa: F401
import campaigns.callbacks  # noqa: F401
import campaigns.callerid  # noqa: F401
import campaigns.carrier_inbox  # noqa: F401
import campaigns.console_auth  # noqa: F401
import campaigns.dial_settings  # noqa: F401
import campaigns.dispatch_models  # noqa: F401
import campaigns.lead_phones  # noqa: F401
import campaigns.leases  # noqa: F401
import campaigns.models  # noqa: F401
import campaigns.reports.models  # noqa: F401
import campaigns.scripts  # noqa: F401
import dnc.models  # noqa: F401
