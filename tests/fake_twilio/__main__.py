"""``python -m tests.fake_twilio --port 8765``: run the fake Twilio API until interrupted."""

from __future__ import annotations

import argparse
import logging
import sys
import time

from tests.fake_twilio import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, FakeTwilio


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--account-sid", default=DEFAULT_ACCOUNT_SID)
    parser.add_argument("--auth-token", default=DEFAULT_AUTH_TOKEN)
    parser.add_argument("--no-callbacks", action="store_true", help="do not post status callbacks")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    fake = FakeTwilio(
        host=args.host,
        port=args.port,
        account_sid=args.account_sid,
        auth_token=args.auth_token,
        callbacks=not args.no_callbacks,
    ).start()
    sys.stderr.write(f"fake Twilio listening on {fake.url} (account {args.account_sid})\n")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        fake.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
