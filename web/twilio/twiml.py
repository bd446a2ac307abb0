"""The TwiML our calls run. Pure functions of their inputs so the tests read them without a server."""

from __future__ import annotations

from twilio.twiml.voice_response import VoiceResponse

from dialer.twilio_adapter import conference_name

HOLD_S = 30  # silence while the dial loop picks an agent (it connects or abandons within 2 s)


def answer_hold() -> VoiceResponse:
    """The customer leg waits in silence; the loop redirects it to an agent or to the safe-harbor message."""
    r = VoiceResponse()
    r.pause(length=HOLD_S)
    return r


def safe_harbor(seller_name: str, callback_number: str, optout_url: str) -> VoiceResponse:
    """FTC TSR safe-harbor message: seller, a number that takes DNC requests, and an automated opt-out (FCC)."""
    spoken = " ".join(callback_number.lstrip("+"))
    r = VoiceResponse()
    g = r.gather(num_digits=1, action=optout_url, method="POST", timeout=5)
    g.say(f"Hello, this call was from {seller_name}. Sorry we missed you. You can reach us at {spoken}. "
          "Press 9 to be added to our do-not-call list.")
    r.hangup()
    return r


def optout_done(added: bool) -> VoiceResponse:
    r = VoiceResponse()
    r.say("You have been added to our do-not-call list. Goodbye." if added else "Thank you. Goodbye.")
    r.hangup()
    return r


def agent_join(agent_id: int) -> VoiceResponse:
    """The agent's own conference: it starts when they enter and ends when they leave (nailed up)."""
    r = VoiceResponse()
    r.dial().conference(conference_name(agent_id), start_conference_on_enter=True, end_conference_on_exit=True,
                        beep=False, wait_url="")
    return r


def reject() -> VoiceResponse:
    r = VoiceResponse()
    r.say("This line is not available.")
    r.hangup()
    return r
