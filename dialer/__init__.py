"""The runtime: pacing, the dial loop, carriers (simulated and Twilio), the simulator, periodic jobs, benchmarks,
the demo, the schema's migrations and the ``dialer`` command. It may import ``campaigns`` and ``dnc``, never ``web``."""
