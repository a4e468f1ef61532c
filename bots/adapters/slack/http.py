"""The Slack adapter's public HTTP front: a request's signature is checked before bolt sees it.

slack-bolt builds its request object, parsing the body, before its own signature check, and
some bodies make that parsing raise (`{"event": {"team": true}}`, a body of `0`); its check
itself (slack_sdk's `SignatureVerifier`) raises on a signature with a non-ASCII character
(`hmac.compare_digest` refuses non-ASCII `str`), a timestamp that is not a number (`int()`)
and, given bytes, a body that is not UTF-8. Each of those was a 500 and a traceback in the
log for a request nobody signed. Here the raw bytes are checked first, with the same
`SignatureVerifier` after its inputs are made safe for it, and anything not signed with the
app's secret in the last five minutes gets 401 before bolt parses a byte. bolt's own check
stays on behind this one (it passes what passed here). Socket Mode has no signatures (the
connection itself is authenticated) and does not come through here.

A signed body bolt still cannot read (not JSON, a `payload=` form field that is not JSON,
JSON that is not an object) gets 400 and one WARNING line: the sender has the secret, so
it is a bug or a format change on their side, not an attack, and it deserves an answer
that says "your request", not a 500 and bolt's traceback.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.signature import SignatureVerifier

log = logging.getLogger(__name__)

TIMESTAMP_HEADER = "X-Slack-Request-Timestamp"
SIGNATURE_HEADER = "X-Slack-Signature"
# What Slack sends: seconds since 1970 in ASCII digits, and "v0=" plus a lowercase hex
# SHA-256. Anything else cannot verify, and these shapes are all the verifier handles safely.
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")


def signed_by_slack(verifier: SignatureVerifier, body: bytes, headers: Mapping[str, str]) -> bool:
    """Whether `body` carries a valid, fresh Slack signature; never raises on what was sent."""
    timestamp = headers.get(TIMESTAMP_HEADER, "")
    signature = headers.get(SIGNATURE_HEADER, "")
    if not _TIMESTAMP.fullmatch(timestamp) or not _SIGNATURE.fullmatch(signature):
        return False
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return False  # Slack sends UTF-8; bolt could not read this body either
    return verifier.is_valid(text, timestamp, signature)


def verify_first(signing_secret: str, path: str) -> Middleware:
    """aiohttp middleware: a POST to `path` without a valid Slack signature is answered 401."""
    verifier = SignatureVerifier(signing_secret)

    @web.middleware
    async def check(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method == "POST" and request.path == path:
            body = await request.read()  # kept by aiohttp: bolt reads the same bytes after
            if not signed_by_slack(verifier, body, request.headers):
                # No body, no headers in the log: the request is anyone's.
                log.debug("refused a request to %s without a valid Slack signature", path)
                return web.json_response({"error": "invalid request"}, status=401)
        return await handler(request)

    return check


def events_app(app: AsyncApp, signing_secret: str, path: str) -> web.Application:
    """An aiohttp application serving bolt `app` on `path`, behind `verify_first`.

    What bolt's own `AsyncApp.web_app` builds (the same two bolt conversions), made anew for
    each server: bolt keeps one, which cannot take a middleware once it has served.
    """

    async def dispatch(request: web.Request) -> web.Response:
        try:
            bolt_request = await to_bolt_request(request)
        # bolt parses the body while building the request, and what it raises depends on
        # the shape (JSONDecodeError, AttributeError on a list, TypeError on a number...):
        # any of them means "this body is not one bolt can read", nothing else runs here.
        except Exception as exc:
            log.warning(
                "refused a signed Slack request to %s: its body is not valid (%s); answered 400",
                path,
                type(exc).__name__,
            )
            return web.json_response({"error": "invalid body"}, status=400)
        answer = await app.async_dispatch(bolt_request)
        return await to_aiohttp_response(answer)

    web_app = web.Application(middlewares=[verify_first(signing_secret, path)])
    web_app.router.add_post(path, dispatch)
    return web_app
