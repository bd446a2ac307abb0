"""Imports every feature's ``models.py``, so Alembic and the tests see the whole schema.

Each feature of ``campaigns`` declares its tables in its own ``models.py``; a feature that adds one adds one line
here (the schema-drift test fails until it does).
"""

import campaigns.accounts.models  # noqa: F401
import campaigns.agents.models  # noqa: F401
import campaigns.alerts.models  # noqa: F401
import campaigns.callbacks.models  # noqa: F401
import campaigns.callerid.models  # noqa: F401
import campaigns.campaign.models  # noqa: F401
import campaigns.compliance.models  # noqa: F401
import campaigns.cpsbudget.models  # noqa: F401
import campaigns.dispatch.models  # noqa: F401
import campaigns.inbox.models  # noqa: F401
import campaigns.leads.models  # noqa: F401
import campaigns.leases.models  # noqa: F401
import campaigns.reports.models  # noqa: F401
import dnc.models  # noqa: F401
