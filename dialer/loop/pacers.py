"""Which pacer a campaign gets: its pacing mode and settings, through the pacing contract's ``make_pacer``."""

from __future__ import annotations

from dialer.loop.store import CampaignView
from dialer.pacing import make_pacer
from dialer.pacing.governed import HOLD


def campaign_pacer(c: CampaignView):
    """preview, progressive, power (k = the campaign's power ratio) or predictive, held to its abandon target."""
    settings: dict = {"target_abandon_rate": c.abandon_target}
    if c.pacing_mode == "power":  # the manager's k is a ceiling; the 30-day abandon budget holds it back
        settings.update(k=c.power_ratio, **HOLD)
    return make_pacer(c.pacing_mode, **settings)


def named_pacer(name: str, settings: dict | None = None):
    """A factory giving every campaign the same named pacer (the simulator and the benchmark compare pacers)."""
    settings = dict(settings or {})
    make_pacer(name, **settings)  # fail now, with the pacer's own message, not at the first tick

    def factory(c: CampaignView):
        return make_pacer(name, **settings)

    return factory
