"""Lead-list import: read any common list format, map columns, normalize numbers, de-duplicate, store atomically.

``service.import_leads`` is the entry point the CLI and the web upload share.
"""

from campaigns.leadimport.scrub import LeadCandidate, Scrubber

__all__ = ["LeadCandidate", "Scrubber"]
