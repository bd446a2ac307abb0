"""Reports and the floor's figures, computed from the pure definitions in ``campaigns.reports.metrics``.

- ``catalog.run_report(session, name, campaign, now, first, last, by)``: any report by name (``REPORTS``).
- ``history.abandon_history(session, campaign_id, now)``: the rolling 30-day live answers and abandons the pacer
  is seeded with (the same counts the abandon report shows).
- ``rollup.refresh(session, campaign, now)``: absorb new calls and agent events into the rollups.
- ``export``: CSV (formula-safe), XLSX and JSON; ``charts``: PNG/SVG time series; ``daily``: the stored daily report.
"""
