"""Dialing through Twilio: the REST adapter, its configuration, the TwiML our calls run, the callback pump, start-up
reconciliation, the worker, and a Twilio-compatible fake server (``fake/``). Besides ``web/twilio``, the only
place that imports the ``twilio`` library."""
