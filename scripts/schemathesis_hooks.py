"""Schemathesis hooks for airdesk (loaded by scripts/schemathesis through SCHEMATHESIS_HOOKS).

Why: an Idempotency-Key names one request. The server answers a second request with the same
key and a different body 422 ("this Idempotency-Key was used with a different request"), as the
IETF draft and every payment API do, and server/tests/api check that. Generated cases reuse
short keys ("0", "00") across different bodies, which turns every schema-valid request after the
first into that 422. So each valid key gets a unique suffix just before it is sent; the key's
generated characters are kept (the blanks HTTP drops around a value aside), and invalid keys
(negative cases) are sent as generated.
"""

import re
import uuid

import schemathesis

VALID_KEY = re.compile(r"^[!-~]{1,255}$")


@schemathesis.hook
def before_call(context, case, kwargs):
    headers = case.headers or {}
    key = headers.get("Idempotency-Key")
    if not isinstance(key, str):
        return
    key = key.strip(" \t")
    if VALID_KEY.match(key):
        headers["Idempotency-Key"] = f"{key[:200]}-{uuid.uuid4().hex}"
        case.headers = headers
