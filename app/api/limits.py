"""Request bodies are limited before anything parses them: a declared Content-Length over the
limit is refused at once, and a body that streams past it (chunked, no Content-Length) is cut
off with 413 as soon as it does."""

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

UPLOAD_PATH = "/v1/admin/documents"
DEFAULT_LIMIT = 1024 * 1024  # JSON requests are small; only uploads may be large


class BodyTooLarge(HTTPException):
    """Raised from `receive` while the app reads the body. An HTTPException, so that body parsing
    (FastAPI's JSON and multipart readers) lets it through as a 413 instead of a parse error."""

    def __init__(self, limit: int):
        super().__init__(413, _message(limit), headers={"Connection": "close"})


class BodyLimit:
    def __init__(self, app: ASGIApp, upload_limit: int):
        self.app = app
        self.upload_limit = upload_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.upload_limit if scope["path"] == UPLOAD_PATH else DEFAULT_LIMIT
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _too_large(limit)(scope, receive, send)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            # Reached only when no exception handler answered it (a reader outside FastAPI's).
            if not started:
                await _too_large(limit)(scope, receive, send)


def _too_large(limit: int) -> JSONResponse:
    # The rest of the body is never read: the connection cannot carry another request.
    return JSONResponse({"detail": _message(limit)}, status_code=413, headers={"Connection": "close"})


def _message(limit: int) -> str:
    return f"the request body is larger than {_size(limit)}"


def _size(n: int) -> str:
    for unit, factor in (("MB", 1024 * 1024), ("KB", 1024)):
        if n >= factor:
            return f"{n / factor:g} {unit}"
    return f"{n} bytes"
