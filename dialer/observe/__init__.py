"""Operating the processes: readiness checks over the shared database (``health``), Prometheus metrics of the
dialing worker and the jobs (``metrics``), and the small HTTP listener a worker serves them on (``listener``).

Nothing below ``dialer`` knows of this package: the loop reports through its ``LoopObserver``, and only the modules
here import ``prometheus_client``. The web apps have their own (``web.observe``).
"""
