"""Lead lists and leads once stored: several phones per lead, hot leads that jump the queue."""
