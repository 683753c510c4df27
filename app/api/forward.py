"""Requests that write shared state, answered by one process of a cluster: the documents, the
re-index job, the index versions and the agents' feedback live where that process runs, so
every replica hands the admin requests and the feedback on to it (app/cluster/deployments.py)
and passes back its answer. (With HUASHU_DATABASE_URL, feedback and job status are in the
shared database and any replica could answer them; uploads and builds still live with that
process, so every admin request keeps one way there.)

A request travels as a plain dict (method, path, query string, headers, body) and its answer as
another (status, headers, body): both are small (admin answers are JSON, uploads are bounded by
the body limit before they are read here).
"""

import logging
from collections.abc import Awaitable, Callable

from fastapi import status
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.deps import ADMIN_PREFIX
from app.api.observability import REQUEST_ID_HEADER
from app.core.logging import request_id_var

log = logging.getLogger("huashu")
ForwardAdmin = Callable[[dict], Awaitable[dict]]
FEEDBACK_PATH = "/v1/feedback"
# Set again by the replica that answers the client; the others describe the body sent on.
_NOT_FORWARDED = {b"content-length", b"transfer-encoding", b"connection", REQUEST_ID_HEADER.lower().encode()}


class AdminElsewhere:
    """Hands each admin request and each feedback to `forward` and answers with what comes back."""

    def __init__(self, app: ASGIApp, forward: ForwardAdmin):
        self.app = app
        self.forward = forward

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not (scope["path"].startswith(ADMIN_PREFIX) or scope["path"] == FEEDBACK_PATH):
            await self.app(scope, receive, send)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        headers = [(k, v) for k, v in scope["headers"] if k.lower() not in _NOT_FORWARDED]
        headers.append((b"content-length", str(len(body)).encode()))
        if request_id := request_id_var.get():  # the answering process logs under the client's request id
            headers.append((REQUEST_ID_HEADER.lower().encode(), request_id.encode()))
        try:
            answer = await self.forward(self._request(scope, headers, bytes(body)))
        except Exception as e:  # the keeper is restarting or unreachable: say so, never a bare 500
            log.error("%s %s could not be handed on: %s", scope["method"], scope["path"], e)
            detail = "the process that keeps the index and the admin data cannot be reached right now; retry shortly"
            await JSONResponse({"detail": detail}, status.HTTP_503_SERVICE_UNAVAILABLE)(scope, receive, send)
            return
        response_headers = [(k, v) for k, v in answer["headers"] if k.lower() not in _NOT_FORWARDED]
        response_headers.append((b"content-length", str(len(answer["body"])).encode()))
        await send({"type": "http.response.start", "status": answer["status"], "headers": response_headers})
        await send({"type": "http.response.body", "body": answer["body"]})

    @staticmethod
    def _request(scope: Scope, headers: list, body: bytes) -> dict:
        return {
            "method": scope["method"],
            "path": scope["path"],
            "raw_path": scope.get("raw_path") or scope["path"].encode(),
            "query_string": scope.get("query_string", b""),
            "headers": headers,
            "client": scope.get("client"),
            "body": body,
        }


async def answer_forwarded(app: ASGIApp, request: dict) -> dict:
    """Run a forwarded request through `app` (the whole service, its middleware included) and
    collect the answer."""
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "scheme": "http", "root_path": "",
        "server": ("127.0.0.1", 80), "method": request["method"], "path": request["path"],
        "raw_path": request["raw_path"], "query_string": request["query_string"],
        "headers": [tuple(h) for h in request["headers"]],
        "client": tuple(request["client"]) if request.get("client") else None,
    }
    sent = False
    answer = {"status": 500, "headers": [], "body": b""}
    chunks = []

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": request["body"], "more_body": False}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            answer["status"], answer["headers"] = message["status"], list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    answer["body"] = b"".join(chunks)
    return answer
