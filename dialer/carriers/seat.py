"""The agent's call controls (hold, cold transfer, warm transfer) as one step each: the seat's change in the
database (``campaigns.agents.transfer``) and the carrier's, committed together or not at all.

``control`` is the carrier's side for calls it carries (``dialer.carriers.twilio.control.TwilioCallControl``);
calls of the simulated carrier have no audio to move, so only the database changes. A carrier refusal rolls the
seat back and is reported in words.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session

from campaigns.agents import lines as agent_lines
from campaigns.agents import transfer
from campaigns.dispatch.models import Call
from dnc.errors import UserError


class CallControl(Protocol):  # what ``TwilioCallControl`` offers
    def hold(self, agent_id: int, customer_sid: str, on: bool) -> None: ...
    def cold_transfer(self, customer_sid: str, number: str, caller_id: str) -> None: ...
    def consult_agent(self, host_agent_id: int, guest_leg_sid: str) -> None: ...
    def consult_number(self, host_agent_id: int, number: str, caller_id: str) -> str: ...
    def complete_to_agent(self, customer_sid: str, taker_id: int, taker_leg_sid: str) -> None: ...
    def complete_to_number(self, call_id: int, customer_sid: str, leg_sid: str) -> None: ...
    def cancel_agent(self, guest_id: int, guest_leg_sid: str) -> None: ...
    def cancel_number(self, leg_sid: str) -> None: ...


class SeatCalls:
    """``control_for(call)`` gives the carrier control of a call (None: the database alone)."""

    def __init__(self, control_for: Callable[[Call], CallControl | None]) -> None:
        self.control_for = control_for

    def _run(self, session: Session, step: Callable[[], str]) -> str:
        try:
            message = step()
            session.commit()
            return message
        except UserError:
            session.rollback()
            raise
        except RuntimeError as e:  # the carrier refused (TwilioCallError): nothing changed
            session.rollback()
            raise UserError(f"the phone network refused that ({e}); nothing changed") from e

    def _live(self, call: Call) -> tuple[CallControl | None, str]:
        control = self.control_for(call)
        if control is not None and not call.provider_sid:
            raise UserError("the call has no carrier reference yet; try again in a moment")
        return control, call.provider_sid or ""

    def hold(self, session: Session, agent_id: int, now: datetime, on: bool = True) -> str:
        def step() -> str:
            oc = (transfer.hold if on else transfer.resume)(session, agent_id, now)
            control, sid = self._live(oc.call)
            if control is not None:
                control.hold(agent_id, sid, on)
            return "The customer is on hold." if on else "The customer is back with you."
        return self._run(session, step)

    def cold_transfer(self, session: Session, agent_id: int, number: str, now: datetime) -> str:
        def step() -> str:
            oc, e164 = transfer.cold_transfer(session, agent_id, number, now)
            control, sid = self._live(oc.call)
            if control is not None:
                control.cold_transfer(sid, e164, oc.call.caller_id)
            return f"The customer was transferred to {e164}. Disposition the call."
        return self._run(session, step)

    def consult(self, session: Session, agent_id: int, now: datetime, *, to_agent: int | None = None,
                to_number: str | None = None) -> str:
        """With an agent, their line is marked away (and committed) before their leg moves, so the webhook saying
        it left its own room finds it so; if the consult then fails, the line is up again where it was."""
        away = None
        if to_agent is not None:
            # only a colleague the seat offers (ready, on this campaign): an id typed into the form for anyone else
            # must not mark their line away, even for the moment until the refusal puts it back
            if to_agent not in dict(transfer.consult_agents(session, agent_id)):
                raise UserError("that agent is not free to take a consult right now (ready, on this campaign)")
            away = agent_lines.away(session, to_agent, now)
            session.commit()
        try:
            return self._consult(session, agent_id, now, to_agent, to_number, away)
        except UserError:
            if away is not None:
                agent_lines.back(session, to_agent, now)
                session.commit()
            raise

    def _consult(self, session: Session, agent_id: int, now: datetime, to_agent: int | None, to_number: str | None,
                 leg: str | None) -> str:
        def step() -> str:
            oc = transfer.start_consult(session, agent_id, now, to_agent=to_agent, to_number=to_number)
            control, sid = self._live(oc.call)
            c = oc.consult
            if control is not None:
                control.hold(agent_id, sid, True)  # the customer waits on hold through the consult
            if c.to_agent_id is not None:
                if control is not None:
                    if leg is None:
                        raise UserError("that agent's phone line is not up; choose someone else")
                    control.consult_agent(agent_id, leg)
                return "The customer is on hold; you are talking with the other agent."
            if control is not None:
                transfer.consult_leg(session, c, control.consult_number(agent_id, c.to_number, oc.call.caller_id))
            return f"The customer is on hold; calling {c.to_number}."
        return self._run(session, step)

    def complete(self, session: Session, agent_id: int, now: datetime) -> str:
        def step() -> str:
            oc, c = transfer.complete(session, agent_id, now)
            control, sid = self._live(oc.call)
            if c.to_agent_id is not None:
                if control is not None:
                    line = agent_lines.get(session, c.to_agent_id)
                    control.complete_to_agent(sid, c.to_agent_id, line.call_sid if line else "")
                return "Transferred: the customer is with the other agent. You are ready."
            if control is not None:
                if not c.leg_sid:
                    raise UserError("the consulted number is not on the line")
                control.complete_to_number(oc.call.id, sid, c.leg_sid)
            return f"Transferred to {c.to_number}. Disposition the call."
        return self._run(session, step)

    def cancel(self, session: Session, agent_id: int, now: datetime) -> str:
        def step() -> str:
            oc, c = transfer.cancel(session, agent_id, now)
            control, sid = self._live(oc.call)
            if control is not None:
                if c.to_agent_id is not None:
                    line = agent_lines.get(session, c.to_agent_id)
                    if line is not None and line.call_sid:
                        control.cancel_agent(c.to_agent_id, line.call_sid)
                elif c.leg_sid:
                    control.cancel_number(c.leg_sid)
                control.hold(agent_id, sid, False)
            return "Consult ended: the customer is back with you."
        return self._run(session, step)
