"""Carriers: the ``Telephony`` port the dial loop talks to, and its implementations (the simulated carrier here,
Twilio in ``twilio/``), with the calls-per-second limiter they share."""
