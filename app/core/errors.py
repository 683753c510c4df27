"""The errors a client or an operator can act on. Each message says what to do; each class says
the HTTP status it is answered with. The API turns them into responses in one handler
(app/api/main.py), the CLI into one line on stderr (app/cli.py); the layers that raise them
stay free of HTTP."""

from http import HTTPStatus


class HuashuError(Exception):
    status: HTTPStatus = HTTPStatus.INTERNAL_SERVER_ERROR

    def fields(self) -> dict:
        """What the API's answer carries besides `detail` (the problems of an edit, one by one)."""
        return {}


class NotFound(HuashuError, LookupError):
    status = HTTPStatus.NOT_FOUND


class Conflict(HuashuError):
    """Not allowed with things as they are (a job already running, material still needed)."""

    status = HTTPStatus.CONFLICT


class Invalid(HuashuError, ValueError):
    """Content that cannot be used as given; the message names where."""

    status = HTTPStatus.UNPROCESSABLE_ENTITY


class Unavailable(HuashuError):
    """The server's own storage or model, not the request: try again once the operator has fixed it."""

    status = HTTPStatus.SERVICE_UNAVAILABLE
