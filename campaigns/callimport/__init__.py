"""Call history from another dialer: ``service.import_calls`` (columns documented in ``rows``)."""
