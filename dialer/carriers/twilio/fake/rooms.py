"""Conferences of the fake: who is in which room, and the participant events Twilio posts about them.

A room is created by its first participant and takes that participant's ``statusCallback``/``statusCallbackEvent``
(as Twilio does for a conference's events); every later join and leave is reported there, signed. A participant
whose ``endConferenceOnExit`` is true closes the room when it leaves: the other legs' ``<Dial>`` ends and their TwiML
goes on (for a customer, to the end of the document: the call is over).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dialer.carriers.twilio.fake.calls import FakeCall, Webhooks


@dataclass
class Member:
    call: FakeCall
    end_on_exit: bool
    joined_at: float
    held: bool = False  # on hold (``POST .../Participants/{CallSid}.json Hold=true``): hears music, not the room


@dataclass
class Room:
    name: str
    sid: str
    callback: str | None
    events: set[str]
    members: dict[str, Member] = field(default_factory=dict)
    sequence: int = 0


class Rooms:
    """Thread-safe registry of the live conferences."""

    def __init__(self, hooks: Webhooks, stamp: Callable[[], str]) -> None:
        self.hooks = hooks
        self.stamp = stamp
        self.rooms: dict[str, Room] = {}
        self._lock = threading.Lock()

    def join(self, call: FakeCall, name: str, *, end_on_exit: bool, callback: str | None, events: str) -> list[str]:
        """Put ``call`` in room ``name``; returns the sids already there when it entered."""
        with self._lock:
            room = self.rooms.get(name)
            if room is None:
                room = self.rooms[name] = Room(name, "CF" + secrets.token_hex(16), callback, set(events.split()))
            present = list(room.members)
            room.members[call.sid] = Member(call, end_on_exit, time.monotonic())
            params = self._event(room, call, "participant-join") if "join" in room.events else None
        if params is not None and room.callback:
            self.hooks.post(room.callback, params)
        return present

    def leave(self, call: FakeCall, close: Callable[[FakeCall], None]) -> None:
        """Take ``call`` out of its room; if it ended the conference on exit, ``close`` every other leg."""
        with self._lock:
            room = self.rooms.get(call.conference or "")
            member = room.members.pop(call.sid, None) if room is not None else None
            if member is None:
                return
            params = self._event(room, call, "participant-leave") if "leave" in room.events else None
            others = list(room.members.values()) if member.end_on_exit else []
            if member.end_on_exit or not room.members:
                del self.rooms[room.name]
        if params is not None and room.callback:
            self.hooks.post(room.callback, params)
        for other in others:
            close(other.call)

    def by_sid_or_name(self, ref: str) -> Room | None:
        with self._lock:
            return self.rooms.get(ref) or next((r for r in self.rooms.values() if r.sid == ref), None)

    def in_progress(self, name: str | None = None) -> list[Room]:
        with self._lock:
            return [r for r in self.rooms.values() if name is None or r.name == name]

    def update_member(self, room_ref: str, call_sid: str, *, hold: bool | None = None) -> Member | None:
        """Put a participant on hold or take it off; None when the room or the participant is not there."""
        room = self.by_sid_or_name(room_ref)
        with self._lock:
            member = room.members.get(call_sid) if room is not None else None
            if member is not None and hold is not None:
                member.held = hold
            return member

    def held(self, name: str, call_sid: str) -> bool:
        with self._lock:
            room = self.rooms.get(name)
            member = room.members.get(call_sid) if room is not None else None
            return member is not None and member.held

    def members(self, name: str) -> list[str]:
        with self._lock:
            room = self.rooms.get(name)
            return list(room.members) if room is not None else []

    def _event(self, room: Room, call: FakeCall, event: str) -> dict:
        room.sequence += 1
        return {"AccountSid": call.account_sid, "ConferenceSid": room.sid, "FriendlyName": room.name,
                "CallSid": call.sid, "StatusCallbackEvent": event, "SequenceNumber": str(room.sequence),
                "Timestamp": self.stamp(), "Muted": "false", "Hold": "false", "Coaching": "false",
                "EndConferenceOnExit": "false", "StartConferenceOnEnter": "true"}
