"""What travels over HTTP: request parameters in, Telegram-shaped answers and failures out."""

from __future__ import annotations

import asyncio
from http import HTTPStatus
from typing import Any, NoReturn

from aiohttp import BodyPartReader, web

from .models import ApiError, Fault, UploadedFile

_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    409: "Conflict: terminated by other getUpdates request",
}
# api.telegram.org's gateway answers 5xx with nginx's HTML page, not JSON.
_NGINX_PAGE = (
    "<html>\r\n<head><title>{0}</title></head>\r\n<body>\r\n<center><h1>{0}</h1></center>\r\n"
    "<hr><center>nginx/1.18.0</center>\r\n</body>\r\n</html>\r\n"
)


async def read_params(request: web.Request) -> dict[str, Any]:
    """Parameters from the query string and a JSON, urlencoded or multipart body."""
    params: dict[str, Any] = dict(request.query)
    if not request.body_exists:
        return params
    if request.content_type == "application/json":
        body = await request.json()
        if not isinstance(body, dict):
            raise ApiError(400, "Bad Request: can't parse JSON object")
        params.update(body)
    elif request.content_type == "multipart/form-data":
        async for part in await request.multipart():
            if not isinstance(part, BodyPartReader) or part.name is None:
                continue
            if part.filename is not None:
                content_type = part.headers.get("Content-Type", "application/octet-stream")
                data = bytes(await part.read())
                params[part.name] = UploadedFile(part.filename, content_type, data)
            else:
                params[part.name] = await part.text()
    else:
        form = await request.post()
        params.update({k: v for k, v in form.items() if isinstance(v, str)})
    return params


def error_response(error: ApiError) -> web.Response:
    if error.status >= 500 and not error.parameters:
        page = _NGINX_PAGE.format(error.description)
        return web.Response(text=page, status=error.status, content_type="text/html")
    return web.json_response(error.body(), status=error.status)


def injected_error(fault: Fault) -> ApiError:
    """The error a test asked for with ``fail_next``, worded as Telegram words it."""
    status = fault.status or 400
    if status == 429:
        description = fault.description or f"Too Many Requests: retry after {fault.retry_after}"
        return ApiError(429, description, retry_after=fault.retry_after)
    if status >= 500:
        return ApiError(status, fault.description or f"{status} {HTTPStatus(status).phrase}")
    return ApiError(status, fault.description or _DEFAULT_DESCRIPTIONS.get(status, "Error"))


def drop_connection(request: web.Request) -> NoReturn:
    """Cut the connection without an answer, as when the network is down."""
    if request.transport is not None:
        request.transport.abort()
    # aiohttp treats a cancelled handler as a client that went away: nothing is written.
    raise asyncio.CancelledError
