"""What an agent does to a live Twilio call from the console: hold, cold transfer, warm transfer (consult, then
complete or cancel), through the agents' nailed-up conferences.

- *hold*: the customer's participant in the agent's room ``agent-<id>`` is put on hold (Twilio plays its hold
  music); the Participants API addresses a conference by its SID, looked up by name among the live ones.
- *cold transfer*: the customer's leg is given ``<Dial><Number>``; it leaves the agent's room and ends with that call.
- *consult with an agent*: the consulted agent's own leg visits the host's room (their line is marked away so
  leaving their room does not count as a dropped line); *complete* sends that leg back home through the join
  URL and the customer after it (with the room's events still going to the taker's line); *cancel* sends it home.
- *consult with a number*: the Participants API dials it into the host's room; *complete* moves the customer and
  that leg into a room of their own (``transfer-<call id>``), *cancel* hangs that leg up.

The web process calls this at once (the agent is waiting on the answer); the worker keeps placing and bridging.
"""

from __future__ import annotations

from twilio.base.exceptions import TwilioRestException, TwilioServiceException

from dialer.carriers.twilio.adapter import TwilioCallError, TwilioTelephony, _msg
from dialer.carriers.twilio.config import TwilioConfig
from dialer.carriers.twilio.twiml import bridge_twiml, conference_name, conference_twiml, transfer_twiml, visit_twiml

CONSULT_RING_S = 30


class TwilioCallControl:
    def __init__(self, config: TwilioConfig, telephony: TwilioTelephony | None = None) -> None:
        self.config = config
        self.telephony = telephony or TwilioTelephony(config)

    @property
    def _client(self):
        return self.telephony.client

    def _join_url(self, agent_id: int) -> str:
        return f"{self.config.webhook_url_base}/twilio/agent/join?agent={agent_id}"

    def _events_url(self, agent_id: int) -> str:
        return f"{self.config.webhook_url_base}/twilio/agent/conference?agent={agent_id}"

    def _conference_sid(self, agent_id: int) -> str:
        name = conference_name(agent_id)
        try:
            rooms = self.telephony._retrying(lambda: self._client.conferences.list(
                friendly_name=name, status="in-progress", limit=1))
        except (TwilioRestException, TwilioServiceException) as e:
            raise TwilioCallError(f"looking up conference {name}: {e.status} {_msg(e)}") from e
        if not rooms:
            raise TwilioCallError(f"conference {name} is not in progress (is the agent's line up?)")
        return rooms[0].sid

    def hold(self, agent_id: int, customer_sid: str, on: bool) -> None:
        room = self._conference_sid(agent_id)
        try:
            self.telephony._retrying(lambda: self._client.conferences(room).participants(customer_sid)
                                     .update(hold=on))
        except (TwilioRestException, TwilioServiceException) as e:
            raise TwilioCallError(f"{'holding' if on else 'resuming'} {customer_sid}: {e.status} {_msg(e)}") from e

    def cold_transfer(self, customer_sid: str, number: str, caller_id: str) -> None:
        self.telephony._update(customer_sid, twiml=str(transfer_twiml(number, caller_id)))

    def consult_agent(self, host_agent_id: int, guest_leg_sid: str) -> None:
        self.telephony._update(guest_leg_sid, twiml=str(visit_twiml(host_agent_id)))

    def consult_number(self, host_agent_id: int, number: str, caller_id: str) -> str:
        """Dial ``number`` into the host's room; returns the new leg's SID."""
        try:
            p = self.telephony._retrying(lambda: self._client.conferences(conference_name(host_agent_id))
                                         .participants.create(from_=caller_id, to=number, label="consult",
                                                              end_conference_on_exit=False,
                                                              timeout=CONSULT_RING_S), network_retry=False)
        except (TwilioRestException, TwilioServiceException) as e:
            raise TwilioCallError(f"calling {number} into the consult: {e.status} {_msg(e)}") from e
        return p.call_sid

    def complete_to_agent(self, customer_sid: str, taker_id: int, taker_leg_sid: str) -> None:
        self.telephony._update(taker_leg_sid, url=self._join_url(taker_id), method="POST")
        self.telephony._update(customer_sid, twiml=str(conference_twiml(taker_id, self._events_url(taker_id))))

    def complete_to_number(self, call_id: int, customer_sid: str, leg_sid: str) -> None:
        room = str(bridge_twiml(call_id))
        self.telephony._update(leg_sid, twiml=room)
        self.telephony._update(customer_sid, twiml=room)

    def cancel_agent(self, guest_id: int, guest_leg_sid: str) -> None:
        self.telephony._update(guest_leg_sid, url=self._join_url(guest_id), method="POST")

    def cancel_number(self, leg_sid: str) -> None:
        self.telephony.hangup(leg_sid)
