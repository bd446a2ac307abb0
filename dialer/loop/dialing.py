"""Dialing: the pacer's plan, held to the line cap and the calls-per-second limit, becomes claimed and placed calls.

Part of ``DialLoop`` (``dialer.loop.core``), which inherits it and owns the state it works on (the store, the
carrier, the pacer slots, the placer). A claim is the lead's ``dialing`` status and its ``queued`` call row, written
by the store in one transaction; from then on each claimed call is settled in the turn, whatever the carrier does:
placed with its reference, refused (``PlaceFailed``, or a carrier that raised), not sent (the gate's decision
expired), or released unsent when the turn itself fails. None is left a row without a carrier reference for the
next worker start to find, except a create whose answer never came (``PlaceOutcomeUnknown``): the carrier may have
made that call, so its row is kept "unknown" (the person is not dialed again) for the carrier's call log to settle.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime
from typing import TYPE_CHECKING

from campaigns.dispatch.release import send_deadline
from dialer.carriers.telephony import DialRequest, PlaceFailed, PlaceOutcomeUnknown, SendTooLate, check_send_by
from dialer.loop.store import CallView, CampaignView, Gate
from dialer.pacing import CallPlaced

if TYPE_CHECKING:
    from dialer.loop.core import PacerSlot

log = logging.getLogger("dialer.loop.core")  # one logger for the loop, whichever part of it speaks


class Dialing:
    """The dialing half of ``DialLoop``: ``_dial`` runs once per campaign and turn."""

    def _dial(self, c: CampaignView, now: datetime, t: float) -> None:
        slot = self.slots[c.id]
        slot.at = now
        if c.pacing_mode == "preview" or not self.dialing:
            slot.planned = slot.allowed = slot.placed = 0
            slot.capped_by = None
            if self.dialing:
                self.decisions.note(c.id, c.name, preview=True, placed=0, planned=0, claimed_short=False,
                                    held_by=None, refused=Counter())
            return
        n = slot.pacer.plan(t)
        slot.planned, slot.capped_by = n, None
        placer = self.placer
        if placer is not None:  # claimed calls not yet sent: the pacer has not heard of them
            n -= placer.pending(c.id)
        if n > 0 and c.max_lines is not None:
            free = c.max_lines - self.store.live_lines(c.id)
            if free < n:
                n, slot.capped_by = max(0, free), "lines"
        times: list[datetime] = []
        if n > 0 and placer is not None:
            room = placer.room()
            if room < n:
                n, slot.capped_by = room, "placement"
            with self.released():
                times = placer.reserve(n, now)  # send slots from the account's shared clock
            if len(times) < n:
                n, slot.capped_by = len(times), "cps"
        elif n > 0 and self._bucket is not None:
            tokens = int(self._bucket.available + 1e-9)
            if tokens < n:
                n, slot.capped_by = tokens, "cps"
        slot.allowed = max(0, n)
        slot.placed = 0
        if slot.capped_by is not None:
            self.stats.capped[slot.capped_by] = self.stats.capped.get(slot.capped_by, 0) + 1
        refused: Counter = Counter()
        claims = []
        if n > 0:
            try:
                with self.released():
                    claims = self.store.claim(c, n, now, self._counting_gate(refused))
            except Exception:
                if placer is not None:
                    placer.give_back(times)
                raise
        if placer is not None:
            placer.give_back(times[len(claims):])  # fewer leads than slots: the rest go back on the clock
        if len(claims) < n and slot.capped_by is None:
            slot.capped_by = "leads"
        sent = 0  # claims handed to the carrier (or its placement threads)
        try:
            for i, cl in enumerate(claims):
                request = self._request(cl.call_id, cl.phone, c, now, cl.caller_id)  # the gate decided at ``now``
                if placer is not None:
                    placer.submit(request, times[i])
                    sent += 1
                    slot.placed += 1
                    continue
                sent += 1
                if self._bucket is not None:
                    self._bucket.try_take()
                if self._place(request, c, slot, now, t):
                    slot.placed += 1
        except Exception:
            self._release_unsent(claims[sent:], times[sent:len(claims)], now)
            raise
        if not self.decisions.due(c.id, t) and not slot.placed and not refused:
            return  # judged at most once a second (the simulator turns the loop millions of times)
        held_by = None
        if slot.placed == 0 and slot.planned == 0:
            explain = getattr(slot.pacer, "explain", None)
            held_by = explain().get("held_by") if explain is not None else None
        self.decisions.note(c.id, c.name, preview=False, placed=slot.placed, planned=slot.planned,
                            claimed_short=n > 0 and not claims, held_by=held_by, refused=refused)

    def _counting_gate(self, refused: Counter) -> Gate | None:
        """The pre-dial gate, counting the reasons of what it refuses (the log says why a campaign dials nothing)."""
        gate = self.gate
        if gate is None:
            return None

        def counted(context, candidate, now):
            decision = gate(context, candidate, now)
            if not getattr(decision, "allowed", True):
                refused.update(getattr(decision, "codes", ()) or ("refused",))
            return decision

        return counted

    def _request(self, call_id: int, phone: str, c: CampaignView, decided_at: datetime,
                 caller_id: str = "") -> DialRequest:
        """``decided_at``: when the gate allowed the claim; with a gate, the call may not be sent after the margin
        its decision covers (``send_by``: ``campaigns.dispatch.release``)."""
        return DialRequest(call_id=call_id, to=phone, caller_id=caller_id or c.caller_id, campaign_id=c.id,
                           ring_timeout_s=self.ring_timeout_s, machine_detection=self.machine_detection,
                           voicemail=c.machine_action == "voicemail" and bool(c.voicemail_message),
                           send_by=send_deadline(decided_at) if self.gate is not None else None)

    def _place(self, request: DialRequest, c: CampaignView, slot: PacerSlot | None, now: datetime,
               t: float) -> bool:
        """Send one claimed call and record what came of it, whatever the carrier does: a claim never stays a row
        without a carrier reference in this process (a raise is a refusal; an unrecorded reference is kept)."""
        try:
            check_send_by(request.send_by, now, "the worker's turn came too late")  # by the loop's own clock
            ref = self.telephony.place(request)
        except SendTooLate as e:
            log.warning("call %s to %s not sent: %s", request.call_id, request.to, e)
            self.store.send_refused(request.call_id, now, e.send_by, e.at)
            self.stats.send_refused += 1
            return False
        except PlaceOutcomeUnknown as e:
            log.warning("call %s to %s may have been placed: %s", request.call_id, request.to, e)
            self.store.placed_unknown(request.call_id, e.sent_at)
            self.stats.place_unknown += 1
            return False
        except Exception as e:  # PlaceFailed, or a carrier that broke: no reference, so the call was not placed
            retryable = e.retryable if isinstance(e, PlaceFailed) else True
            if isinstance(e, PlaceFailed):
                log.warning("call %s to %s not placed: %s", request.call_id, request.to, e)
            else:  # as the Twilio worker's placement threads treat it: the lead is due again, the attempt given back
                log.exception("placing call %s failed; recorded as not placed", request.call_id)
                self.stats.errors.append(f"place {request.call_id}: {type(e).__name__}: {e}")
            self.store.place_failed(request.call_id, now, retryable)
            self.stats.place_failed += 1
            self.observer.place_failed(c.id)
            return False
        try:
            self.store.placed(request.call_id, self.telephony.name, ref, now)
        except Exception:  # the carrier has it: written on the next pass, before any of its events is applied
            log.exception("storing the placement of call %s (%s) failed; kept to write again", request.call_id, ref)
            self.unrecorded.add(request.call_id, self.telephony.name, ref, now)
        if slot is not None:
            slot.pacer.observe(CallPlaced(t=t, call_id=str(request.call_id)))
        self.stats.placed += 1
        self.observer.placed(c.id)
        return True

    def _release_unsent(self, claims: list, times: list[datetime], now: datetime) -> None:
        """Claims a failing turn never handed to the carrier: released at once as not placed (the attempt given
        back, the lead due again shortly), not left for the next worker start."""
        if self.placer is not None:
            self.placer.give_back(times)
        for cl in claims:
            try:
                self.store.place_failed(cl.call_id, now, True)
            except Exception:  # the database is away too: the start-up settlement finds the row
                log.exception("releasing call %s (never sent) failed", cl.call_id)

    def _settle(self) -> None:
        """Take in what the placer's threads finished: the pacer hears ``CallPlaced`` at the moment each create was
        sent (before any callback of that call reaches the loop); a reference a thread could not store is kept to
        write again (``UnrecordedPlacements``)."""
        for p in self.placer.unrecorded():
            self.unrecorded.add(p.call_id, self.placer.provider, p.ref, p.sent_at)
        for p in self.placer.finished():
            if p.refused:
                self.stats.send_refused += 1
                continue
            if p.unknown:
                self.stats.place_unknown += 1
                continue
            if p.ref is None:
                self.stats.place_failed += 1
                self.observer.place_failed(p.campaign_id)
                continue
            self.stats.placed += 1
            self.observer.placed(p.campaign_id)
            slot = self.slots.get(p.campaign_id)
            if slot is not None:
                slot.pacer.observe(CallPlaced(t=p.sent_at.timestamp(), call_id=str(p.call_id)))

    def adopted(self, call_id: int, campaign_id: int, sent_at: datetime) -> None:
        """A create whose answer never came was found in the carrier's call log: placed after all, so its pacer
        counts it in flight from the moment it was sent. Told before any of its callbacks reaches the loop; a pacer
        made while the call was unknown did not count it (``_slot``)."""
        self.stats.placed += 1
        self.observer.placed(campaign_id)
        slot = self.slots.get(campaign_id)
        if slot is not None:
            slot.pacer.observe(CallPlaced(t=sent_at.timestamp(), call_id=str(call_id)))

    def _place_previews(self, now: datetime) -> None:
        """Place the calls preview agents chose (within the calls-per-second limit)."""
        for call in self.store.preview_calls():
            placer = self.placer
            if placer is not None and placer.is_pending(call.id):
                continue
            times: list[datetime] = []
            if placer is not None:
                times = placer.reserve(1, now) if placer.room() else []
                if not times:
                    return
            elif self._bucket is not None and not self._bucket.try_take():
                return
            c = self.campaigns.get(call.campaign_id) or self.store.campaign(call.campaign_id)
            if c is None:
                if placer is not None:
                    placer.give_back(times)
                continue
            request = self._request(call.id, call.phone, c, call.placed_at)  # queued: when the gate decided
            if placer is not None:
                placer.submit(request, times[0])
            else:
                self._place(request, c, self.slots.get(c.id), now, now.timestamp())

    def preview_dial(self, agent_id: int, lead_id: int, now: datetime) -> CallView | None:
        """A preview agent dials the lead they looked at (in-process callers); placed at once."""
        self._advance(now)
        call = self.store.preview_dial(agent_id, lead_id, now, self.gate)
        if call is not None:
            self._place_previews(now)
        return call
