"""Gauges read from the shared database when scraped: what no single process knows by counting.

Campaign leases per worker, active campaigns, the callback inbox's backlog. Every process that serves ``/metrics``
can add them (the console and the webhooks do; a worker adds its own leases), and since they are read from the one
database they agree whichever process is scraped. A scrape costs three indexed queries.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from campaigns.campaign.models import Campaign
from campaigns.inbox.models import CarrierCallback
from campaigns.leases.models import DialWorker, JobLease
from dialer.clock import Clock


class ClusterCollector(Collector):
    """``holder``: only that worker's leases (a worker's own listener); None: every worker's."""

    def __init__(self, sessions: sessionmaker[Session], clock: Clock, holder: str | None = None) -> None:
        self.sessions, self.clock, self.holder = sessions, clock, holder

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily("dialer_database_up", "1 when the last scrape could read the database")
        try:
            families = self._read()
        except Exception:  # the scrape still answers: readiness says why
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _read(self) -> list[GaugeMetricFamily]:
        now = self.clock.now()
        with self.sessions() as s:
            q = (select(JobLease.holder, func.count()).where(JobLease.name.like("dial:%"), JobLease.holder.is_not(None),
                                                             JobLease.expires_at > now).group_by(JobLease.holder))
            if self.holder is not None:
                q = q.where(JobLease.holder == self.holder)
            held = s.execute(q).all()
            active = s.scalar(select(func.count()).select_from(Campaign).where(Campaign.status == "active"))
            workers, draining = s.execute(select(func.count(), func.count().filter(DialWorker.draining))
                                          .where(DialWorker.expires_at > now)).one()
            pending, oldest = s.execute(select(func.count(), func.min(CarrierCallback.received_at))
                                        .where(CarrierCallback.processed_at.is_(None))).one()
        leases = GaugeMetricFamily("dialer_campaign_leases", "Campaigns a live worker holds, per worker",
                                   labels=["worker"])
        for holder, n in held:
            leases.add_metric([holder], n)
        if self.holder is not None and not held:
            leases.add_metric([self.holder], 0)
        campaigns = GaugeMetricFamily("dialer_campaigns_active", "Active campaigns (each should have a lease)")
        campaigns.add_metric([], active or 0)
        backlog = GaugeMetricFamily("dialer_callbacks_pending", "Stored carrier callbacks not yet delivered")
        backlog.add_metric([], pending or 0)
        age = GaugeMetricFamily("dialer_callbacks_oldest_pending_seconds", "Age of the oldest undelivered callback")
        age.add_metric([], max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0)
        alive = GaugeMetricFamily("dialer_workers_alive", "Dialing workers whose heartbeat is current")
        alive.add_metric([], workers or 0)
        drains = GaugeMetricFamily("dialer_workers_draining", "Live workers draining after SIGTERM (they take no "
                                   "campaigns and place no new calls)")
        drains.add_metric([], draining or 0)
        return [leases, campaigns, backlog, age, alive, drains]
