"""The contestant every router benchmark includes: a bare Flask pass-through proxy.

One pooled ``requests.Session`` (``trust_env=False``), no auth, no checks, no audit:
the floor for any Python proxy on the same machine. ``BARE_PROXY_UPSTREAM`` names the
upstream base URL (test code only).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import requests
from flask import Flask, Response, request

app = Flask("bare_proxy")
_upstream = os.environ.get("BARE_PROXY_UPSTREAM", "http://127.0.0.1:9")
_session = requests.Session()
_session.trust_env = False
_session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=128))


@app.post("/v1/chat/completions")
def proxy() -> Response:
    upstream = _session.post(_upstream + "/v1/chat/completions", data=request.get_data(),
                             headers={"Content-Type": "application/json",
                                      "Authorization": request.headers.get("Authorization", "")},
                             stream=True, timeout=(5, 120))

    def body() -> Iterator[bytes]:
        try:
            yield from upstream.raw.stream(None, decode_content=False) \
                if upstream.raw.chunked else [upstream.content]
        finally:
            upstream.close()

    return Response(body(), status=upstream.status_code,
                    content_type=upstream.headers.get("Content-Type"))
