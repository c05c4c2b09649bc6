"""How Bot API calls travel over HTTP: request parameters in, error answers out.

Parameters come from the query string and a JSON, form-encoded or multipart body; form values
are strings, so they are decoded back to the JSON types the Bot API documents.
"""

import contextlib
import json
from typing import Any

from aiohttp import web

from tests.fakes.records import JSONDict, UploadedFile

_OBJECT_FIELDS = frozenset(
    {
        "allowed_updates",
        "caption_entities",
        "commands",
        "entities",
        "link_preview_options",
        "media",
        "reply_markup",
        "reply_parameters",
        "scope",
    }
)
_NUMBER_FIELDS = frozenset(
    {
        "cache_time",
        "chat_id",
        "from_chat_id",
        "limit",
        "message_id",
        "message_thread_id",
        "offset",
        "reply_to_message_id",
        "timeout",
        "user_id",
    }
)
_BOOL_FIELDS = frozenset(
    {
        "allow_sending_without_reply",
        "disable_content_type_detection",
        "disable_notification",
        "disable_web_page_preview",
        "drop_pending_updates",
        "protect_content",
        "show_alert",
    }
)


class ApiError(Exception):
    """An error answer of the Bot API."""

    def __init__(self, status: int, description: str, parameters: JSONDict | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def to_json(self) -> JSONDict:
        """The response body Telegram sends for this error."""
        body: JSONDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


async def read_params(request: web.Request) -> tuple[JSONDict, dict[str, UploadedFile]]:
    """Parameters from the query string and a JSON, form-encoded or multipart body."""
    raw: JSONDict = dict(request.query)
    files: dict[str, UploadedFile] = {}
    if request.can_read_body and request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise ApiError(400, "Bad Request: can't parse JSON request body") from None
        raw.update(body)
    elif request.can_read_body:
        for key, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                content = value.file.read()
                files[key] = UploadedFile(value.filename, value.content_type, content)
            else:
                raw[key] = value
    return {key: _decode(key, value) for key, value in raw.items()}, files


def _decode(key: str, value: Any) -> Any:
    """Turn a form value back into the JSON type the Bot API documents for ``key``."""
    if not isinstance(value, str):
        return value
    if key in _OBJECT_FIELDS:
        try:
            return json.loads(value)
        except ValueError:
            raise ApiError(400, f"Bad Request: can't parse {key} JSON object") from None
    if key in _NUMBER_FIELDS:
        for number_type in (int, float):
            with contextlib.suppress(ValueError):
                return number_type(value)
    if key in _BOOL_FIELDS:
        return value.lower() == "true"
    return value


def error_response(error: ApiError) -> web.Response:
    """The HTTP response of an error answer."""
    return web.json_response(error.to_json(), status=error.status)
