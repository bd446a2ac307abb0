"""The Twilio carrier: ``Telephony`` implemented with the real twilio library (the only module besides the webhooks
that imports it).

Calls are placed with every status callback and asynchronous AMD so an answer reaches the dial loop at once; the
customer leg is then moved into the agent's nailed-up conference (``connect``) or redirected to the safe-harbor
message (``abandon``). twilio-python retries neither 429 (error 20429, "never processed, always safe to retry") nor
5xx, so this module does, with jittered exponential backoff. The client is built with an isolated environment and
an HTTP client pinned to the configured API base (``build_client``): stray ``TWILIO_*``/proxy variables cannot
redirect it.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

import requests
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from urllib3.exceptions import NewConnectionError

from dialer.carriers.sendpace import EARLY_S, SendPacer
from dialer.carriers.telephony import DialRequest, PlaceFailed, PlaceOutcomeUnknown, SendTooLate, check_send_by
from dialer.carriers.twilio.attempt import TOKEN_PARAM, attempt_token
from dialer.carriers.twilio.config import TWILIO_API_BASE, TwilioConfig
from dialer.carriers.twilio.sendgate import GatedAdapter, armed
from dialer.carriers.twilio.twiml import conference_twiml, voicemail_twiml
from dialer.clock import Clock, SystemClock
from dialer.observe import metrics

log = logging.getLogger(__name__)

T = TypeVar("T")
STATUS_EVENTS = ["initiated", "ringing", "answered", "completed"]
MIN_RING_S = 20  # the TSR needs >= 15 s or 4 rings; Twilio may trim up to 5 s
AGENT_RING_S = 30  # an agent's phone rings this long before the line counts as down
GONE_CODES = {20404, 21220}  # call not found / not in progress: the call already ended, its callback settles it
TWIML_MAX = 4000  # Twilio refuses inline TwiML longer than this


class TwilioCallError(RuntimeError):
    """Twilio refused an update to a live call after retries (connect, abandon, hangup)."""


class PinnedHttpClient(TwilioHttpClient):
    """Sends every request to ``api_base`` instead of api.twilio.com, ignoring proxy environment variables."""

    def __init__(self, api_base: str, timeout: float = 10.0) -> None:
        super().__init__(timeout=timeout)
        self.api_base = api_base.rstrip("/")
        if self.session is not None:
            self.session.trust_env = False
            for scheme in ("http://", "https://"):  # a create's send moment is taken at the socket (sendgate)
                self.session.mount(scheme, GatedAdapter(pool_maxsize=4))

    def request(self, method, url, params=None, data=None, headers=None, auth=None, timeout=None,
                allow_redirects=False):
        if url.startswith(TWILIO_API_BASE):
            url = self.api_base + url[len(TWILIO_API_BASE):]
        return super().request(method, url, params=params, data=data, headers=headers, auth=auth,
                               timeout=timeout, allow_redirects=allow_redirects)


# twilio-python falls back to the process environment when given an empty mapping (an empty dict is falsy), where
# TWILIO_EDGE/TWILIO_REGION would rewrite the host. A non-empty mapping without TWILIO_* keys isolates it.
ISOLATED_ENVIRONMENT = {"DIALER_TWILIO_ISOLATED": "1"}


def build_client(config: TwilioConfig) -> Client:
    client = Client(config.rest_username, config.rest_password, config.account_sid,
                    environment=dict(ISOLATED_ENVIRONMENT), http_client=PinnedHttpClient(config.api_base))
    client.edge = client.region = None
    return client


@dataclass(frozen=True)
class Backoff:
    """Retry schedule for throttled or failing requests: full jitter over an exponential ceiling."""

    attempts: int = 6
    base_s: float = 0.1
    cap_s: float = 5.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        return rng.uniform(0, min(self.cap_s, self.base_s * (2 ** attempt)))


def is_retryable(exc: BaseException) -> bool:
    """429/20429 and 5xx are safe to repeat; a refused connection never reached Twilio."""
    if isinstance(exc, TwilioRestException | TwilioServiceException):
        return exc.status == 429 or exc.code == 20429 or exc.status >= 500
    return isinstance(exc, requests.exceptions.ConnectionError) and not isinstance(
        exc, requests.exceptions.ReadTimeout)


def never_connected(exc: requests.exceptions.RequestException) -> bool:
    """The connection to Twilio was never made (refused, timed out connecting), so no byte of the request reached
    it. ``requests`` runs the send hook before it connects; this tells a stamped request that never left."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(exc, requests.exceptions.ConnectionError) and isinstance(reason, NewConnectionError)


@dataclass(frozen=True)
class CallSnapshot:
    """What Twilio says about a call now (for reconciliation after a restart)."""

    sid: str
    status: str
    answered_by: str | None
    duration_s: int | None
    created: datetime | None = None  # the call log's date_created: when Twilio took the create (whole seconds)
    from_: str | None = None


class TwilioTelephony:
    """``dialer.carriers.telephony.Telephony`` over Twilio's REST API."""

    name = "twilio"

    def __init__(self, config: TwilioConfig, *, client: Client | None = None, backoff: Backoff | None = None,
                 pacer: SendPacer | None = None, clock: Clock | None = None,
                 sleep: Callable[[float], None] = time.sleep, rng: random.Random | None = None) -> None:
        self.config = config
        # the account's CPS: every create waits for its send slot (shared by every worker of the database) and the
        # process's own guard, so Twilio never queues our calls; without a pacer (tests) creates go at once
        self.pacer = pacer
        self.clock = clock or (pacer.clock if pacer is not None else SystemClock())
        self._shared_client = client  # given (tests): every thread uses it; else one client per thread
        self._local = threading.local()
        self.backoff = backoff or Backoff()
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._count_lock = threading.Lock()
        self.retries = 0  # throttled/failed attempts that were repeated (for the bench and the logs)
        self.request_s: deque[float] = deque(maxlen=2000)  # how long each create took (sizes the placement pool)
        # entered around every wait on Twilio (a request in flight, a send slot, a backoff): the worker lets go of
        # its dial loop there, so callbacks are delivered and answers routed while an agent's line is being rung
        self.released: Callable[[], AbstractContextManager] = self.released_default

    released_default = staticmethod(nullcontext)

    @property
    def client(self) -> Client:
        if self._shared_client is not None:
            return self._shared_client
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = build_client(self.config)
        return client

    # --- the Telephony interface -------------------------------------------------------------------------
    def place(self, request: DialRequest) -> str:
        """``place_paced`` at the next free send slot (the Telephony interface)."""
        return self.place_paced(request)[0]

    def place_paced(self, request: DialRequest, slot: datetime | None = None) -> tuple[str, datetime]:
        """Place a customer call at ``slot`` (booked by the dial loop; None: the next free one); returns the SID and
        the moment the accepted create was sent. Every status callback, the answer URL holding the leg in silence,
        and asynchronous AMD so the answer reaches the loop at once (the verdict follows on /twilio/amd). When the
        campaign leaves voicemail, detection waits for the end of the greeting so the message lands after the
        beep. The status callback URL carries the attempt's token (``attempt``): a create whose answer is lost is
        settled by the callbacks that carry it, not by the number and the moment alone."""
        base = self.config.webhook_url_base
        kwargs = dict(
            to=request.to, from_=request.caller_id or self.config.caller_id,
            url=f"{base}/twilio/answer", method="POST",
            status_callback=self.status_url(request.call_id, request.to), status_callback_method="POST",
            status_callback_event=STATUS_EVENTS,
            timeout=max(MIN_RING_S, request.ring_timeout_s),
        )
        if request.machine_detection:
            kwargs.update(machine_detection="DetectMessageEnd" if request.voicemail else "Enable", async_amd="true",
                          async_amd_status_callback=f"{base}/twilio/amd",
                          async_amd_status_callback_method="POST")
        return self._create(kwargs, request.to, slot, request.send_by)

    def attempt_token(self, call_id: int, phone: str) -> str | None:
        """The token of the attempt ``call_id`` to ``phone`` (None without an auth token to key it)."""
        return attempt_token(self.config.auth_token, call_id, phone) if self.config.auth_token else None

    def status_url(self, call_id: int, phone: str) -> str:
        token = self.attempt_token(call_id, phone)
        url = f"{self.config.webhook_url_base}/twilio/status"
        return f"{url}?{TOKEN_PARAM}={token}" if token else url

    def connect(self, provider_ref: str, agent_id: int) -> None:
        """Move the answered customer into the agent's nailed-up conference (no ringing on the agent's side)."""
        self._update(provider_ref, twiml=str(conference_twiml(agent_id)))

    def abandon(self, provider_ref: str) -> None:
        """No agent within 2 s: the leg fetches the safe-harbor message (which records the abandon)."""
        self._update(provider_ref, url=f"{self.config.webhook_url_base}/twilio/safe-harbor", method="POST")

    def hangup(self, provider_ref: str) -> None:
        self._update(provider_ref, status="completed")

    def leave_voicemail(self, provider_ref: str, message: str) -> None:
        """A machine answered and the campaign leaves a message: say it, then hang up (pulls the leg out of an
        agent's conference too)."""
        doc = str(voicemail_twiml(message))
        if len(doc) > TWIML_MAX:
            log.warning("voicemail message of %d characters is over Twilio's TwiML limit: hanging up instead",
                        len(message))
            self.hangup(provider_ref)
            return
        self._update(provider_ref, twiml=doc)

    # --- agents' nailed-up lines ---------------------------------------------------------------------------
    def call_agent(self, agent_id: int, phone: str, caller_id: str | None) -> str:
        """Ring an agent who works on a phone; answering puts them in their own conference (/twilio/agent/join)."""
        base = self.config.webhook_url_base
        kwargs = dict(to=phone, from_=caller_id or self.config.caller_id,
                      url=f"{base}/twilio/agent/join?agent={agent_id}", method="POST",
                      status_callback=f"{base}/twilio/agent/status?agent={agent_id}", status_callback_method="POST",
                      status_callback_event=["answered", "completed"], timeout=AGENT_RING_S)
        return self._create(kwargs, phone)[0]

    def _create(self, kwargs: dict, to: str, slot: datetime | None = None,
                send_by: datetime | None = None) -> tuple[str, datetime]:
        """``POST /Calls.json``, each attempt at a send slot of its own (a retry is another call to Twilio's
        counter). 429 and 5xx are repeated after a backoff; a network error never is, since the call may exist:
        once the request was written it raises ``PlaceOutcomeUnknown`` (the claim is kept and Twilio's call log
        settles it: no double dial), before that ``PlaceFailed``. Returns the SID and when the accepted attempt was
        sent.

        No attempt is written after ``send_by`` (checked at its slot and again as its first byte goes out): the
        hook raises ``SendTooLate`` before the write, so Twilio never sees the request."""
        for attempt in range(self.backoff.attempts):
            booked = None
            if self.pacer is not None:
                booked = self.pacer.wait_slot(slot if attempt == 0 else None, self.released, EARLY_S, send_by)
            stamp: list[datetime] = []
            started = time.monotonic()
            try:
                with self.released(), armed(lambda stamp=stamp, booked=booked: self._sending(stamp, booked,
                                                                                               send_by)):
                    try:
                        call = self.client.calls.create(**kwargs)
                    except SendTooLate:  # refused before its write: no request was sent
                        started = None
                        raise
                    finally:
                        if started is not None:
                            metrics.create_sent(self.name, time.monotonic() - started)
            except (TwilioRestException, TwilioServiceException) as e:
                if attempt < self.backoff.attempts - 1 and is_retryable(e):
                    self._count_retry()
                    self._wait(self.backoff.delay(attempt, self._rng))
                    continue
                raise PlaceFailed(f"Twilio refused the call to {to}: {e.status} {_code(e)} {_msg(e)}",
                                  retryable=is_retryable(e)) from e
            except requests.exceptions.RequestException as e:
                if stamp and not never_connected(e):
                    raise PlaceOutcomeUnknown(f"no answer from Twilio placing the call to {to}: {e}",
                                              stamp[0]) from e
                raise PlaceFailed(f"Twilio unreachable placing the call to {to}: {e}", retryable=True) from e
            self.request_s.append(time.monotonic() - started)
            return call.sid, stamp[0] if stamp else self.clock.now()
        raise AssertionError("unreachable")

    def _sending(self, stamp: list[datetime], slot: datetime | None,
                 send_by: datetime | None = None) -> Callable[[], None] | None:
        """Run as the create's first byte goes out: the pacer's guard (a send gone late for its ``slot`` takes a new
        one) and the moment recorded as sent; the pacer hears when the write is done. ``SendTooLate`` past
        ``send_by``: raised here, it aborts the request before anything is written."""
        if self.pacer is None:
            now = self.clock.now()
            check_send_by(send_by, now)
            stamp.append(now)
            return None
        stamp.append(self.pacer.begin_send(slot=slot, send_by=send_by))
        return self.pacer.end_send

    def _count_retry(self) -> None:
        with self._count_lock:
            self.retries += 1

    # --- reconciliation ----------------------------------------------------------------------------------
    def fetch(self, provider_ref: str) -> CallSnapshot | None:
        """Twilio's current view of a call; None when Twilio does not know it."""
        try:
            call = self._retrying(lambda: self.client.calls(provider_ref).fetch())
        except (TwilioRestException, TwilioServiceException) as e:
            if e.status == 404:
                return None
            raise TwilioCallError(f"fetching call {provider_ref}: {e.status} {_msg(e)}") from e
        duration = int(call.duration) if call.duration not in (None, "") else None
        return CallSnapshot(call.sid, str(call.status), call.answered_by, duration)

    def find_placed(self, to: str, since: datetime) -> list[CallSnapshot]:
        """Calls Twilio placed to ``to`` since ``since``: finds a call whose SID we never stored (crash on create)."""
        try:
            calls = self._retrying(lambda: self.client.calls.list(to=to, start_time_after=since, limit=20))
        except (TwilioRestException, TwilioServiceException) as e:
            raise TwilioCallError(f"listing calls to {to}: {e.status} {_msg(e)}") from e
        return [CallSnapshot(c.sid, str(c.status), c.answered_by,
                             int(c.duration) if c.duration not in (None, "") else None,
                             c.date_created if isinstance(c.date_created, datetime) else None, c._from)
                for c in calls]

    # --- plumbing ----------------------------------------------------------------------------------------
    def _update(self, sid: str, **fields) -> None:
        try:
            self._retrying(lambda: self.client.calls(sid).update(**fields))
        except (TwilioRestException, TwilioServiceException) as e:
            if _code(e) in GONE_CODES or e.status == 404:
                log.info("call %s already ended; %s ignored", sid, sorted(fields))
                return
            raise TwilioCallError(f"updating call {sid} ({', '.join(sorted(fields))}): {e.status} {_msg(e)}") from e
        except requests.exceptions.RequestException as e:
            raise TwilioCallError(f"Twilio unreachable updating call {sid}: {e}") from e

    def _retrying(self, op: Callable[[], T], network_retry: bool = True) -> T:
        for attempt in range(self.backoff.attempts):
            try:
                with self.released():
                    return op()
            except (TwilioRestException, TwilioServiceException, requests.exceptions.RequestException) as e:
                network = isinstance(e, requests.exceptions.RequestException)
                if attempt == self.backoff.attempts - 1 or not is_retryable(e) or (network and not network_retry):
                    raise
                self._count_retry()
                self._wait(self.backoff.delay(attempt, self._rng))
        raise AssertionError("unreachable")

    def _wait(self, seconds: float) -> None:
        with self.released():
            self._sleep(seconds)


def _code(e: TwilioRestException | TwilioServiceException) -> int | None:
    return e.code


def _msg(e: TwilioRestException | TwilioServiceException) -> str:
    return str(getattr(e, "msg", None) or getattr(e, "detail", None) or getattr(e, "title", ""))
