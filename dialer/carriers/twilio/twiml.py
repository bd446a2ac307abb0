"""The TwiML our calls run, for the worker's call updates and the webhooks' answers alike.

Pure functions of their inputs, so the tests read them without a server.
"""

from __future__ import annotations

from twilio.twiml.voice_response import VoiceResponse

HOLD_S = 30  # silence while the dial loop picks an agent (it connects or abandons within 2 s)
GATHER_TIMEOUT_S = 5


def answer_hold() -> VoiceResponse:
    """The customer leg waits in silence; the loop redirects it to an agent or to the safe-harbor message."""
    r = VoiceResponse()
    r.pause(length=HOLD_S)
    return r


def spoken_number(e164: str) -> str:
    """Digit by digit, so text-to-speech reads "1 8 0 0 ..." and not "one billion ..."."""
    return " ".join(e164.lstrip("+"))


def safe_harbor_text(seller_name: str, callback_number: str) -> str:
    """47 CFR 64.1200(a)(7)(i) / TSR 310.4(b)(4)(iii): telemarketing purpose, the seller, a number that takes DNC
    requests, and an automated key-press opt-out."""
    return (f"Hello. This was a telemarketing call from {seller_name}. We are sorry no one was available to "
            f"speak with you. To reach us, or to ask not to be called again, call {spoken_number(callback_number)}. "
            "To be added to our do-not-call list now, press 9.")


def safe_harbor(seller_name: str, callback_number: str, optout_url: str) -> VoiceResponse:
    """The abandoned call's message inside a one-key gather: a 9 reaches ``optout_url`` at once."""
    r = VoiceResponse()
    g = r.gather(num_digits=1, action=optout_url, method="POST", timeout=GATHER_TIMEOUT_S)
    g.say(safe_harbor_text(seller_name, callback_number))
    r.hangup()
    return r


def optout_done(added: bool) -> VoiceResponse:
    """After the key press: confirm and disconnect at once (F3)."""
    r = VoiceResponse()
    r.say("You have been added to our do-not-call list. Goodbye." if added else "Thank you. Goodbye.")
    r.hangup()
    return r


def agent_join(agent_id: int, events_url: str) -> VoiceResponse:
    """The agent's own conference: it starts when they enter and ends when they leave (nailed up). Its join and
    leave events tell the dialer whether the agent's line is up (``campaigns.agents.lines``)."""
    r = VoiceResponse()
    r.dial().conference(conference_name(agent_id), start_conference_on_enter=True, end_conference_on_exit=True,
                        beep=False, wait_url="", status_callback=events_url, status_callback_event="join leave",
                        status_callback_method="POST")
    return r


def reject() -> VoiceResponse:
    r = VoiceResponse()
    r.say("This line is not available.")
    r.hangup()
    return r


def conference_twiml(agent_id: int, events_url: str | None = None) -> VoiceResponse:
    """Drop a leg into the agent's own conference; it keeps running when the customer leaves (nailed up). With
    ``events_url`` (a transfer, where the customer may reach the room before the agent's leg) the room's events
    still go to the agent's line: a conference takes its status callback from whoever enters first."""
    r = VoiceResponse()
    more = {"status_callback": events_url, "status_callback_event": "join leave",
            "status_callback_method": "POST"} if events_url else {}
    r.dial().conference(conference_name(agent_id), start_conference_on_enter=True, end_conference_on_exit=False,
                        beep=False, **more)
    return r


def visit_twiml(host_agent_id: int) -> VoiceResponse:
    """A consulted agent's leg visits the host agent's room (leaving it does not end that room)."""
    r = VoiceResponse()
    r.dial().conference(conference_name(host_agent_id), start_conference_on_enter=True, end_conference_on_exit=False,
                        beep=False)
    return r


def transfer_twiml(number: str, caller_id: str) -> VoiceResponse:
    """A cold transfer: the customer's leg dials the number (showing our caller ID) and ends with that call."""
    r = VoiceResponse()
    r.dial(caller_id=caller_id).number(number)
    return r


def bridge_twiml(call_id: int) -> VoiceResponse:
    """A warm transfer to a number: the customer and the consulted leg meet in a room of their own, which ends
    when either leaves."""
    r = VoiceResponse()
    r.dial().conference(f"transfer-{call_id}", start_conference_on_enter=True, end_conference_on_exit=True,
                        beep=False)
    return r


def voicemail_twiml(message: str) -> VoiceResponse:
    r = VoiceResponse()
    r.say(message)
    r.hangup()
    return r


def conference_name(agent_id: int) -> str:
    return f"agent-{agent_id}"
