"""localstripe (a stateful fake Stripe server, GPL-3, a dev dependency only) for tests, and
webhook events signed exactly as Stripe signs them."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import subprocess
import sys
import time
from dataclasses import dataclass

import requests

SECRET_KEY = "sk_test_aftercare"
PUBLISHABLE_KEY = "pk_test_aftercare"
WEBHOOK_SECRET = "whsec_aftercare_test"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LocalStripe:
    url: str
    process: subprocess.Popen

    def card_token(self, number: str = "4242424242424242") -> str:
        """What Stripe.js gives the page for a typed card (the stand-in's createToken)."""
        answer = requests.post(
            f"{self.url}/v1/tokens",
            data={
                "card[number]": number,
                "card[exp_month]": "12",
                "card[exp_year]": "2034",
                "card[cvc]": "123",
                "key": PUBLISHABLE_KEY,
            },
            timeout=5,
        )
        answer.raise_for_status()
        return str(answer.json()["id"])

    def authenticate(self, intent_id: str, client_secret: str, *, success: bool = True) -> None:
        """The client's answer to the 3-D Secure challenge (the stand-in's modal)."""
        answer = requests.post(
            f"{self.url}/v1/payment_intents/{intent_id}/_authenticate?success={str(success).lower()}",
            data=json.dumps({"key": PUBLISHABLE_KEY, "client_secret": client_secret}),
            timeout=5,
        )
        answer.raise_for_status()

    def get(self, path: str) -> dict:
        answer = requests.get(f"{self.url}{path}", auth=(SECRET_KEY, ""), timeout=5)
        answer.raise_for_status()
        return dict(answer.json())

    def flush(self) -> None:
        requests.delete(f"{self.url}/_config/data", timeout=5)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_localstripe() -> LocalStripe:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "localstripe", "--port", str(port), "--from-scratch"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            requests.get(f"{url}/js.stripe.com/v3/", timeout=1)
            return LocalStripe(url=url, process=process)
        except requests.ConnectionError:
            if process.poll() is not None:
                break
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("localstripe did not start")


def signed_event(
    *,
    event_type: str,
    obj: dict,
    event_id: str,
    secret: str = WEBHOOK_SECRET,
    at: int | None = None,
) -> tuple[bytes, str]:
    """A webhook body and its ``Stripe-Signature`` header: ``t=<unix time>,v1=<hex HMAC-SHA256
    of "{t}.{body}" keyed by the endpoint secret>``."""
    at = at if at is not None else int(time.time())
    body = json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": event_type,
            "created": at,
            "data": {"object": obj},
        }
    ).encode()
    signature = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return body, f"t={at},v1={signature}"
