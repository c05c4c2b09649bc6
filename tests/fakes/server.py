"""The fake Telegram Bot API server: HTTP routes, Telegram's validation and errors, and state.

Owns the update queue served by getUpdates, every chat the bot may write to, the messages it
sent (with edits and deletions), uploaded files, command menus, flood control, injected faults
(error answers, dropped connections, latency, answers held after delivery) and the record of
requests that tests assert on.
"""

import asyncio
import contextlib
import json
import random
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from types import TracebackType
from typing import Any, Final, Literal, Self, TypeVar

from aiohttp import web

from tests.fakes.flood import FloodControl, FloodLimits
from tests.fakes.records import JSONDict, RecordedRequest, SentMessage, UploadedFile
from tests.fakes.telegram_html import EntityParseError, parse_html, utf16_len
from tests.fakes.users import FakeGroup, FakeUser
from tests.fakes.wire import ApiError, error_response, read_params

T = TypeVar("T")
Handler = Callable[[JSONDict, dict[str, UploadedFile]], Awaitable[Any]]

DEFAULT_TOKEN = "123456789:AAFakeTokenForTestsOnly_abcdefghijk"
CommandsKey = tuple[str, str]
DROP: Final = "drop"
Failure = int | Literal["drop"] | ApiError
"""An injected send failure: an HTTP status, :data:`DROP` or a ready-made :class:`ApiError`."""

# The methods that deliver a message: fail_sends, stall_after_delivery and latency apply to them.
_SEND_METHODS = frozenset({"sendMessage", "sendPhoto", "sendDocument"})
# Telegram's wording of the statuses fail_sends is most often given.
_FAILURE_DESCRIPTIONS = {
    400: "Bad Request: chat not found",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request",
    429: "Too Many Requests: retry after 1",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}

_MESSAGE_UPDATES = frozenset({"message", "edited_message", "channel_post", "edited_channel_post"})
_BUTTON_ACTIONS = frozenset(
    {
        "callback_data",
        "callback_game",
        "copy_text",
        "login_url",
        "pay",
        "switch_inline_query",
        "switch_inline_query_chosen_chat",
        "switch_inline_query_current_chat",
        "url",
        "web_app",
    }
)
_COMMAND_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")
_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
_CHAT_FULL_INFO_DEFAULTS: JSONDict = {
    "accent_color_id": 0,
    "max_reaction_count": 11,
    "accepted_gift_types": {
        "unlimited_gifts": False,
        "limited_gifts": False,
        "unique_gifts": False,
        "premium_subscription": False,
        "gifts_from_channels": False,
    },
}
_GROUP_ANONYMOUS_BOT: JSONDict = {
    "id": 1087968824,
    "is_bot": True,
    "first_name": "Group",
    "username": "GroupAnonymousBot",
}
_TEXT_LIMIT = 4096
_CAPTION_LIMIT = 1024
_PHOTO_SIZE = (1280, 720)


@dataclass
class _Chat:
    """A chat the bot can write to and the messages it sent there."""

    info: JSONDict
    next_message_id: int = 1
    sent: list[SentMessage] = field(default_factory=list)
    incoming: set[int] = field(default_factory=set)
    kicked: bool = False
    migrated_to: int | None = None  # a group upgraded to this supergroup: the old id is dead

    @property
    def id(self) -> int:
        """The chat id."""
        return int(self.info["id"])

    @property
    def is_group(self) -> bool:
        """Whether the chat is a group or supergroup."""
        return self.info["type"] in ("group", "supergroup")

    def allocate_message_id(self) -> int:
        """Take the next message id; ids are shared by the bot's and the users' messages."""
        message_id = self.next_message_id
        self.next_message_id += 1
        return message_id

    def find(self, message_id: object) -> SentMessage | None:
        """The bot's live message with this id, unless it is unknown or deleted."""
        return next(
            (m for m in self.sent if m.message_id == message_id and not m.deleted),
            None,
        )


@dataclass(frozen=True)
class _StoredFile:
    """A file the fake holds, uploaded by the bot or by a fake user."""

    file_id: str
    file_unique_id: str
    file_path: str
    file_name: str
    mime_type: str
    content: bytes


class FakeBotAPI:
    """A Telegram Bot API server on loopback, with hooks for tests to play users and assert."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_id: int = 123456789,
        bot_username: str = "apuri_test_bot",
        bot_first_name: str = "Apuri",
        flood: FloodLimits | None = None,
        clock: Callable[[], float] = time.monotonic,
        seed: int | None = None,
    ) -> None:
        self.token = token
        self.latency = 0.0  # seconds each send request waits before it is processed
        self.jitter = 0.0  # plus up to this many seconds more, drawn from a seeded generator
        self.bot_user: JSONDict = {
            "id": bot_id,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self.requests: list[RecordedRequest] = []
        self.commands: dict[CommandsKey, list[JSONDict]] = {}
        self.callback_answers: dict[str, JSONDict] = {}
        self.left_chats: list[int] = []  # groups the bot left by itself (leaveChat)
        self.profile: dict[tuple[str, str], str] = {}
        self._clock = clock
        self._flood = FloodControl(flood, clock) if flood else None
        self._chats: dict[int, _Chat] = {}
        self._all_sent: list[SentMessage] = []
        self._blocked: set[int] = set()
        self._fake_users: dict[int, FakeUser] = {}
        self._files: dict[str, _StoredFile] = {}
        self._open_callbacks: set[str] = set()
        self._updates: list[JSONDict] = []
        self._next_update_id = 1
        self._delivered_up_to = 0
        self._method_counts: Counter[str] = Counter()
        self._messages_sent = 0
        self._retry_after_429 = 0
        self._failed_sends = 0
        self._faults_used = False
        self._failures: dict[int, deque[Failure]] = {}
        self._stalls: dict[int, deque[asyncio.Event]] = {}
        self._held = 0
        self._random = random.Random(seed)
        self._changed = asyncio.Condition()
        self._in_flight = 0
        self._last_activity = 0.0
        self._stopping = False
        self._stopped = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._address = ""
        self._methods: dict[str, tuple[str, Handler]] = {
            name.lower(): (name, handler)
            for name, handler in {
                "getMe": self._get_me,
                "getUpdates": self._get_updates,
                "deleteWebhook": self._delete_webhook,
                "logOut": self._true,
                "close": self._true,
                "sendMessage": self._send_message,
                "editMessageText": self._edit_message_text,
                "editMessageCaption": self._edit_message_caption,
                "editMessageReplyMarkup": self._edit_message_reply_markup,
                "deleteMessage": self._delete_message,
                "answerCallbackQuery": self._answer_callback_query,
                "sendDocument": self._send_document,
                "sendPhoto": self._send_photo,
                "sendChatAction": self._send_chat_action,
                "getChat": self._get_chat,
                "leaveChat": self._leave_chat,
                "getFile": self._get_file,
                "setMyCommands": self._set_my_commands,
                "deleteMyCommands": self._delete_my_commands,
                "getMyCommands": self._get_my_commands,
                "setMyDescription": self._profile_setter("description", 512),
                "setMyShortDescription": self._profile_setter("short_description", 120),
                "setMyName": self._profile_setter("name", 64),
            }.items()
        }

    # ----- lifecycle -------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Start serving on ``host:port`` (port 0 picks a free one)."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        app.router.add_post("/_control/updates", self._control_updates)
        app.router.add_get("/_control/stats", self._control_stats)
        app.router.add_post("/_control/reset", self._control_reset)
        app.router.add_post("/_control/chats", self._control_chats)
        app.router.add_get("/_control/counts", self._control_counts)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        bound_host, bound_port = self._runner.addresses[0][:2]
        self._address = f"http://{bound_host}:{bound_port}"

    async def stop(self) -> None:
        """Release pending long polls, drop held and delayed sends, and stop serving.

        A send whose response :meth:`stall_after_delivery` holds, or that waits out
        :attr:`latency`, loses its connection without an answer, so stopping never hangs on it.
        """
        self._stopping = True
        self._stopped.set()
        await self._notify()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """Value for ``ApplicationBuilder.base_url``."""
        return f"{self._started_address()}/bot"

    @property
    def base_file_url(self) -> str:
        """Value for ``ApplicationBuilder.base_file_url``."""
        return f"{self._started_address()}/file/bot"

    def _started_address(self) -> str:
        """``http://host:port`` of the running server."""
        if not self._address:
            raise RuntimeError("FakeBotAPI is not started")
        return self._address

    # ----- users, chats and updates -------------------------------------------------------

    def user(
        self,
        user_id: int,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "fi",
    ) -> FakeUser:
        """A fake user; the same id always gives the same helper."""
        if user_id not in self._fake_users:
            self._fake_users[user_id] = FakeUser(
                self,
                user_id,
                first_name,
                last_name=last_name,
                username=username,
                language_code=language_code,
            )
        return self._fake_users[user_id]

    def group(self, chat_id: int, title: str, type: str = "group") -> FakeGroup:
        """Register a group the bot is a member of and return a helper for it."""
        return FakeGroup(self, self.add_group(chat_id, title, type))

    def add_group(self, chat_id: int, title: str, type: str = "group") -> JSONDict:
        """Register a group or supergroup the bot is a member of; return its Chat object."""
        return self._learn_chat({"id": chat_id, "type": type, "title": title}).info

    def remove_bot_from_group(self, chat_id: int) -> None:
        """Kick the bot: further sends to the group answer 403."""
        self._chats[chat_id].kicked = True

    async def add_bot_to_group(
        self, chat_id: int, title: str, by: FakeUser, type: str = "group"
    ) -> FakeGroup:
        """``by`` adds the bot to a group: register it and inject the ``my_chat_member`` update.

        A group the bot was kicked from becomes writable again.
        """
        info = self.add_group(chat_id, title, type)
        self._chats[chat_id].kicked = False
        await self._inject_my_chat_member(info, by, {"status": "left"}, {"status": "member"})
        return FakeGroup(self, info)

    async def kick_bot_from_group(self, chat_id: int, by: FakeUser) -> None:
        """``by`` removes the bot: sends answer 403 and a ``my_chat_member`` update is injected."""
        chat = self._chats[chat_id]
        chat.kicked = True
        await self._inject_my_chat_member(
            chat.info, by, {"status": "member"}, {"status": "kicked", "until_date": 0}
        )

    async def _inject_my_chat_member(
        self, chat: JSONDict, by: FakeUser, old: JSONDict, new: JSONDict
    ) -> JSONDict:
        """Inject the update Telegram sends when ``by`` changes the bot's membership of a chat."""
        return await self.inject(
            {
                "my_chat_member": {
                    "chat": chat,
                    "from": by.user,
                    "date": int(time.time()),
                    "old_chat_member": {**old, "user": self.bot_user},
                    "new_chat_member": {**new, "user": self.bot_user},
                }
            }
        )

    def block(self, user_id: int) -> None:
        """The user blocks the bot: sends and edits to them answer 403."""
        self._blocked.add(user_id)

    def unblock(self, user_id: int) -> None:
        """The user unblocks the bot."""
        self._blocked.discard(user_id)

    async def migrate_group(
        self,
        chat_id: int,
        new_chat_id: int,
        *,
        by: FakeUser | None = None,
        announce: bool = True,
    ) -> FakeGroup:
        """Telegram upgrades the group ``chat_id`` to the supergroup ``new_chat_id``.

        From then on the old chat is dead: every send, edit or chat action there answers 400
        "group chat was upgraded to a supergroup chat" with ``parameters.migrate_to_chat_id``,
        which PTB raises as ``telegram.error.ChatMigrated``. The supergroup (same title, the bot
        a member) is registered. With ``announce`` the two service messages Telegram sends are
        injected: ``migrate_to_chat_id`` in the old group (from ``by``, who made the change), then
        ``migrate_from_chat_id`` in the supergroup (from GroupAnonymousBot, sender_chat the
        supergroup). ``announce=False`` plays a bot that never got them (e.g. it was down).
        """
        chat = self._chats[chat_id]
        if chat.info["type"] != "group" or chat.migrated_to is not None:
            raise ValueError(f"chat {chat_id} is not a basic group that can be upgraded")
        if new_chat_id in self._chats:
            raise ValueError(f"chat {new_chat_id} exists already")
        info = self.add_group(new_chat_id, str(chat.info.get("title", "")), "supergroup")
        self._chats[new_chat_id].kicked = chat.kicked
        chat.migrated_to = new_chat_id
        if announce:
            sender = {"from": by.user} if by is not None else {}
            await self.inject(
                {"message": {**sender, "chat": chat.info, "migrate_to_chat_id": new_chat_id}}
            )
            await self.inject(
                {
                    "message": {
                        "from": _GROUP_ANONYMOUS_BOT,
                        "sender_chat": info,
                        "chat": info,
                        "migrate_from_chat_id": chat_id,
                    }
                }
            )
        return FakeGroup(self, info)

    def _refuse_migrated(self, chat: _Chat) -> None:
        """A group upgraded to a supergroup: 400 with the new id, as Telegram answers."""
        if chat.migrated_to is not None:
            raise ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": chat.migrated_to},
            )

    async def block_and_tell(self, user: FakeUser) -> JSONDict:
        """``user`` blocks the bot: sends answer 403 and a private ``my_chat_member`` update
        (the bot member -> kicked) is injected, as Telegram does."""
        self.block(user.user_id)
        return await self._inject_my_chat_member(
            user.chat, user, {"status": "member"}, {"status": "kicked", "until_date": 0}
        )

    async def unblock_and_tell(self, user: FakeUser) -> JSONDict:
        """``user`` unblocks the bot (restarts it): sends work again and a private
        ``my_chat_member`` update (the bot kicked -> member) is injected."""
        self.unblock(user.user_id)
        return await self._inject_my_chat_member(
            user.chat, user, {"status": "kicked", "until_date": 0}, {"status": "member"}
        )

    async def inject(self, update: JSONDict) -> JSONDict:
        """Queue an update for getUpdates and return it with update_id and message ids filled in."""
        update = json.loads(json.dumps(update))
        update.setdefault("update_id", self._next_update_id)
        self._next_update_id = max(self._next_update_id, update["update_id"]) + 1
        self._learn_from_update(update)
        self._updates.append(update)
        await self._notify()
        return update

    def add_file(self, file_name: str, content: bytes, mime_type: str) -> JSONDict:
        """Store a file as if a user uploaded it and return its Document object."""
        return _document(self._store_file(content, file_name, mime_type, "documents"))

    def _learn_from_update(self, update: JSONDict) -> None:
        """Register the chats, message ids and callback queries an injected update carries."""
        for kind, payload in update.items():
            if kind == "callback_query":
                self._open_callbacks.add(str(payload["id"]))
                self._learn_chat(payload["message"]["chat"])
            elif isinstance(payload, dict) and "chat" in payload:
                chat = self._learn_chat(payload["chat"])
                if kind in _MESSAGE_UPDATES:
                    self._learn_incoming(chat, payload)

    def _learn_incoming(self, chat: _Chat, message: JSONDict) -> None:
        """Give a user's message an id and date if it lacks them and remember it as incoming."""
        if "message_id" not in message:
            message["message_id"] = chat.allocate_message_id()
        message.setdefault("date", int(time.time()))
        chat.incoming.add(message["message_id"])
        chat.next_message_id = max(chat.next_message_id, message["message_id"] + 1)

    def _learn_chat(self, info: JSONDict) -> _Chat:
        """The chat with this Chat object, created on first sight."""
        chat = self._chats.get(info["id"])
        if chat is None:
            chat = self._chats[info["id"]] = _Chat(info=dict(info))
        return chat

    # ----- faults: failures, lost connections, slow and held responses --------------------

    def fail_sends(self, chat_id: int, *failures: Failure) -> None:
        """Make the next sends to ``chat_id`` fail, one queued failure per send, in order.

        Sends are sendMessage, sendPhoto and sendDocument. An int is answered as that HTTP
        status with Telegram's error body (500 "Internal Server Error", 502 "Bad Gateway",
        503 "Service Unavailable", 400 "Bad Request: chat not found", 429 with retry_after 1,
        ...); an :class:`ApiError` is answered as it is; :data:`DROP` (``"drop"``) closes the
        connection without any answer, which PTB raises as ``NetworkError``. A failed send is
        recorded in :attr:`requests` but delivers nothing, does not count against flood limits
        and counts in ``stats()["failed_sends"]``. Failures are taken before the request is
        validated; once the queue is empty the chat's sends work again.
        """
        checked = [_checked_failure(failure) for failure in failures]
        self._failures.setdefault(chat_id, deque()).extend(checked)
        self._faults_used = True

    def stall_after_delivery(self, chat_id: int) -> asyncio.Event:
        """Deliver the next successful send to ``chat_id`` but hold its answer until released.

        The message is recorded (and counted) at once; the HTTP response waits until the
        returned event is set, so a test can kill the client while the send is in flight.
        Calling it again queues another hold for the send after. A send that fails (an injected
        failure, a 403, a 429, ...) does not take the hold. :meth:`stop` drops held responses'
        connections. Held responses do not count as in flight for :meth:`settle`.
        """
        release = asyncio.Event()
        self._stalls.setdefault(chat_id, deque()).append(release)
        return release

    @property
    def held_responses(self) -> int:
        """How many delivered sends are waiting for their stall_after_delivery release."""
        return self._held

    def _take_failure(self, params: JSONDict) -> Failure | None:
        """The next queued failure of the chat a send request names, if any."""
        queue = self._failures.get(params.get("chat_id"))
        return queue.popleft() if queue else None

    def _take_stall(self, params: JSONDict) -> asyncio.Event | None:
        """The next queued hold of the chat a delivered send named, if any."""
        queue = self._stalls.get(params.get("chat_id"))
        return queue.popleft() if queue else None

    async def _unless_stopped(self, awaitable: Awaitable[object]) -> bool:
        """Await ``awaitable``; give up and return False if the server stops first."""
        tasks = {asyncio.ensure_future(awaitable), asyncio.ensure_future(self._stopped.wait())}
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
        return not self._stopped.is_set()

    # ----- what tests assert on ------------------------------------------------------------

    def messages(self, chat_id: int) -> list[SentMessage]:
        """Snapshots of every message the bot sent to the chat, in order, deleted ones flagged."""
        chat = self._chats.get(chat_id)
        return [m.snapshot() for m in chat.sent] if chat else []

    def message_count(self, chat_id: int) -> int:
        """How many messages the bot has sent to the chat."""
        chat = self._chats.get(chat_id)
        return len(chat.sent) if chat else 0

    def all_messages(self) -> list[SentMessage]:
        """Snapshots of every message the bot sent to any chat, in sending order."""
        return [m.snapshot() for m in self._all_sent]

    def current(self, message: SentMessage) -> SentMessage:
        """The current state of a message the test holds a snapshot of."""
        chat = self._chats.get(message.chat_id)
        for live in chat.sent if chat else []:
            if live.message_id == message.message_id:
                return live.snapshot()
        raise AssertionError(f"message {message.message_id} in chat {message.chat_id} is unknown")

    def commands_for(
        self, scope: JSONDict | None = None, language_code: str = ""
    ) -> list[JSONDict] | None:
        """Commands set for a scope (default scope if None) and language, or None if unset."""
        return self.commands.get(_commands_key(scope, language_code))

    def stats(self) -> JSONDict:
        """Counters for benchmarks: requests by method, messages sent, 429 answers.

        ``retry_after_429`` counts every 429 answer (flood control and injected ones).
        ``failed_sends`` (failures injected by :meth:`fail_sends` and answered, drops included)
        is reported once :meth:`fail_sends` was ever called on this server.
        """
        stats: JSONDict = {
            "requests_by_method": dict(self._method_counts),
            "messages_sent": self._messages_sent,
            "retry_after_429": self._retry_after_429,
        }
        if self._faults_used:
            stats["failed_sends"] = self._failed_sends
        return stats

    def reset(self) -> None:
        """Forget recorded requests, sent messages, callback answers, counters and flood state.

        Queued failures, holds, latency and jitter stay, like blocked users and kicked groups.
        """
        self.requests.clear()
        self.callback_answers.clear()
        self.left_chats.clear()
        self._all_sent.clear()
        for chat in self._chats.values():
            chat.sent.clear()
        self._method_counts.clear()
        self._messages_sent = 0
        self._retry_after_429 = 0
        self._failed_sends = 0
        if self._flood:
            self._flood.reset()

    async def wait_for(
        self,
        predicate: Callable[[], T],
        timeout: float = 5,  # noqa: ASYNC109
        what: str = "condition",
    ) -> T:
        """Wait until ``predicate()`` is truthy (re-checked on every change) and return it."""
        async with self._changed:
            try:
                async with asyncio.timeout(timeout):
                    return await self._changed.wait_for(predicate)
            except TimeoutError:
                raise AssertionError(f"timed out after {timeout} s waiting for {what}") from None

    async def settle(self, quiet: float = 0.15, timeout: float = 10) -> None:  # noqa: ASYNC109
        """Wait until all updates were fetched and the bot made no other request for ``quiet`` s.

        Responses held by :meth:`stall_after_delivery` do not count as in flight: their
        message is already delivered, and settling must not wait for a test to release them.
        Sends waiting out :attr:`latency` do count.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        async with self._changed:
            while True:
                now = loop.time()
                busy = self._in_flight or not self._all_delivered()
                wait = deadline - now if busy else self._last_activity + quiet - now
                if not busy and wait <= 0:
                    return
                if now >= deadline:
                    raise AssertionError(
                        f"bot did not settle within {timeout} s: {self._in_flight} requests in "
                        f"flight, {self._undelivered()} updates not fetched"
                    )
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(min(wait, deadline - now)):
                        await self._changed.wait()

    def _all_delivered(self) -> bool:
        """Whether getUpdates has handed out every queued update."""
        return self._undelivered() == 0

    def _undelivered(self) -> int:
        """How many queued updates getUpdates has not handed out yet."""
        return sum(1 for u in self._updates if u["update_id"] > self._delivered_up_to)

    async def _notify(self) -> None:
        """Wake everything waiting on a change."""
        async with self._changed:
            self._changed.notify_all()

    # ----- HTTP ----------------------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.Response:
        """Route ``/bot{token}/{method}`` to the method's handler."""
        if request.match_info["token"] != self.token:
            return error_response(ApiError(401, "Unauthorized"))
        name = request.match_info["method"]
        method, handler = self._methods.get(name.lower(), (name, None))
        try:
            params, files = await read_params(request)
        except ApiError as error:
            return error_response(error)
        self.requests.append(RecordedRequest(method, params, self._clock(), files))
        self._method_counts[method] += 1
        tracked = method != "getUpdates"
        if tracked:
            self._in_flight += 1
            self._last_activity = asyncio.get_running_loop().time()
        await self._notify()
        release = None
        try:
            if handler is None:
                raise ApiError(404, "Not Found")
            if method in _SEND_METHODS:
                if not await self._delay_send():
                    return _drop(request)
                failure = self._take_failure(params)
                if failure is not None:
                    self._failed_sends += 1
                    if failure == DROP:
                        return _drop(request)
                    raise failure if isinstance(failure, ApiError) else _api_error(failure)
            result = await handler(params, files)
            if method in _SEND_METHODS:
                release = self._take_stall(params)
                if release is not None:
                    self._held += 1
        except ApiError as error:
            if error.status == 429:
                self._retry_after_429 += 1
            return error_response(error)
        finally:
            if tracked:
                self._in_flight -= 1
                self._last_activity = asyncio.get_running_loop().time()
            await self._notify()
        if release is not None:
            try:
                released = await self._unless_stopped(release.wait())
            finally:
                self._held -= 1
            await self._notify()
            if not released:
                return _drop(request)
        return web.json_response({"ok": True, "result": result})

    async def _delay_send(self) -> bool:
        """Wait out :attr:`latency` plus jitter; False if the server stopped meanwhile."""
        delay = self.latency + (self._random.uniform(0, self.jitter) if self.jitter > 0 else 0.0)
        return delay <= 0 or await self._unless_stopped(asyncio.sleep(delay))

    async def _handle_file(self, request: web.Request) -> web.Response:
        """Serve a stored file's bytes at its file_path."""
        path = request.match_info["path"]
        stored = next((f for f in self._files.values() if f.file_path == path), None)
        if request.match_info["token"] != self.token or stored is None:
            return error_response(ApiError(404, "Not Found"))
        return web.Response(body=stored.content, content_type=stored.mime_type)

    async def _control_updates(self, request: web.Request) -> web.Response:
        """Inject ``{"update": {...}}`` or ``{"updates": [...]}`` from another process."""
        body = await request.json()
        if "updates" in body:
            result: Any = [await self.inject(update) for update in body["updates"]]
        else:
            result = await self.inject(body["update"])
        return web.json_response({"ok": True, "result": result})

    async def _control_stats(self, request: web.Request) -> web.Response:
        """Report :meth:`stats` as JSON."""
        return web.json_response(self.stats())

    async def _control_chats(self, request: web.Request) -> web.Response:
        """Make private chats known (``{"user_ids": [...]}``) as if each user had written."""
        body = await request.json()
        for user_id in body["user_ids"]:
            self._learn_chat({"id": int(user_id), "type": "private", "first_name": f"U{user_id}"})
        return web.json_response({"ok": True})

    async def _control_counts(self, request: web.Request) -> web.Response:
        """Per chat, how many sent messages contain ``?contains=`` (for exactly-once checks)."""
        needle = request.query.get("contains", "")
        counts: Counter[int] = Counter(
            message.chat_id for message in self._all_sent if needle in message.text
        )
        return web.json_response({str(chat): n for chat, n in counts.items()})

    async def _control_reset(self, request: web.Request) -> web.Response:
        """Run :meth:`reset`."""
        self.reset()
        return web.json_response({"ok": True})

    # ----- Bot API methods -----------------------------------------------------------------

    async def _true(self, params: JSONDict, files: dict[str, UploadedFile]) -> bool:
        """Methods that only acknowledge."""
        return True

    async def _get_me(self, params: JSONDict, files: dict[str, UploadedFile]) -> JSONDict:
        """getMe."""
        return self.bot_user

    async def _delete_webhook(self, params: JSONDict, files: dict[str, UploadedFile]) -> bool:
        """deleteWebhook; drops the queue when asked to."""
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _get_updates(
        self, params: JSONDict, files: dict[str, UploadedFile]
    ) -> list[JSONDict]:
        """getUpdates: confirm by offset, then long-poll up to ``timeout`` seconds."""
        offset = params.get("offset")
        if isinstance(offset, int) and offset < 0:
            del self._updates[:offset]
        elif isinstance(offset, int):
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        limit = min(max(int(params.get("limit", 100)), 1), 100)
        timeout = float(params.get("timeout", 0))
        async with self._changed:
            if timeout > 0:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(timeout):
                        await self._changed.wait_for(lambda: self._updates or self._stopping)
            batch = self._updates[:limit]
            if batch:
                self._delivered_up_to = max(self._delivered_up_to, batch[-1]["update_id"])
                self._last_activity = asyncio.get_running_loop().time()
                self._changed.notify_all()
        return batch

    async def _send_message(self, params: JSONDict, files: dict[str, UploadedFile]) -> JSONDict:
        """sendMessage."""
        chat = self._writable_chat(params)
        text, entities = _message_text(params)
        return self._deliver(chat, params, text, str(params["text"]), entities)

    async def _send_document(self, params: JSONDict, files: dict[str, UploadedFile]) -> JSONDict:
        """sendDocument: a new upload or a known file_id."""
        chat = self._writable_chat(params)
        stored = self._input_file(params, files, "document")
        return self._send_media(chat, params, document=_document(stored))

    async def _send_photo(self, params: JSONDict, files: dict[str, UploadedFile]) -> JSONDict:
        """sendPhoto: a new upload or a known file_id."""
        chat = self._writable_chat(params)
        stored = self._input_file(params, files, "photo")
        width, height = _PHOTO_SIZE
        size = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.content),
            "width": width,
            "height": height,
        }
        return self._send_media(chat, params, photo=[size])

    def _send_media(self, chat: _Chat, params: JSONDict, **media: Any) -> JSONDict:
        """Validate the caption of a media message, then deliver it."""
        caption, entities = _caption(params)
        return self._deliver(
            chat, params, caption, str(params.get("caption", "")), entities, **media
        )

    def _deliver(
        self,
        chat: _Chat,
        params: JSONDict,
        text: str,
        raw_text: str,
        entities: list[JSONDict],
        **media: Any,
    ) -> JSONDict:
        """Check the keyboard and the flood limits, then record the message the bot sent."""
        markup = _checked_markup(params)
        self._admit(chat)
        return self._record_sent(
            chat,
            text=text,
            raw_text=raw_text,
            parse_mode=params.get("parse_mode"),
            entities=entities,
            reply_markup=markup,
            **media,
        ).to_dict()

    async def _edit_message_text(
        self, params: JSONDict, files: dict[str, UploadedFile]
    ) -> JSONDict:
        """editMessageText; omitting reply_markup removes the inline keyboard, as on Telegram."""
        chat, message = self._editable(params)
        if message.has_media:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        text, entities = _message_text(params)
        return self._apply_edit(chat, message, params, text, entities)

    async def _edit_message_caption(
        self, params: JSONDict, files: dict[str, UploadedFile]
    ) -> JSONDict:
        """editMessageCaption."""
        chat, message = self._editable(params)
        if not message.has_media:
            raise ApiError(400, "Bad Request: there is no caption in the message to edit")
        caption, entities = _caption(params)
        return self._apply_edit(chat, message, params, caption, entities, "caption")

    async def _edit_message_reply_markup(
        self, params: JSONDict, files: dict[str, UploadedFile]
    ) -> JSONDict:
        """editMessageReplyMarkup; omitting reply_markup removes the keyboard."""
        chat, message = self._editable(params)
        return self._apply_edit(chat, message, params, message.text, message.entities, None)

    def _apply_edit(
        self,
        chat: _Chat,
        message: SentMessage,
        params: JSONDict,
        text: str,
        entities: list[JSONDict],
        text_param: str | None = "text",
    ) -> JSONDict:
        """Refuse a no-op edit, pass flood control, then change the message in place."""
        markup = _checked_markup(params)
        if (text, entities, markup) == (message.text, message.entities, message.reply_markup):
            raise ApiError(400, _NOT_MODIFIED)
        self._admit(chat)
        if text_param is not None:
            if text != message.text:
                message.history.append(message.text)
            message.text = text
            message.raw_text = str(params.get(text_param, ""))
            message.parse_mode = params.get("parse_mode")
        message.entities = entities
        message.reply_markup = markup
        message.edit_date = int(time.time())
        return message.to_dict()

    async def _leave_chat(self, params: JSONDict, files: dict[str, UploadedFile]) -> bool:
        """leaveChat: the bot leaves a group; later sends there answer 403, as after a kick."""
        chat = self._known_chat(params)
        if not chat.is_group:
            raise ApiError(400, "Bad Request: chat member status can't be changed in private chats")
        chat.kicked = True
        self.left_chats.append(chat.id)
        return True

    async def _delete_message(self, params: JSONDict, files: dict[str, UploadedFile]) -> bool:
        """deleteMessage: the bot's own messages and users' messages in the chat."""
        chat = self._known_chat(params)
        message_id = params.get("message_id")
        message = chat.find(message_id)
        if message is not None:
            message.deleted = True
        elif message_id in chat.incoming:
            chat.incoming.discard(message_id)
        else:
            raise ApiError(400, "Bad Request: message to delete not found")
        return True

    async def _answer_callback_query(
        self, params: JSONDict, files: dict[str, UploadedFile]
    ) -> bool:
        """answerCallbackQuery: each query the fake issued can be answered once."""
        query_id = str(params.get("callback_query_id", ""))
        if query_id not in self._open_callbacks:
            raise ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        self._open_callbacks.discard(query_id)
        self.callback_answers[query_id] = params
        return True

    async def _send_chat_action(self, params: JSONDict, files: dict[str, UploadedFile]) -> bool:
        """sendChatAction."""
        self._writable_chat(params)
        if not params.get("action"):
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        return True

    async def _get_chat(self, params: JSONDict, files: dict[str, UploadedFile]) -> JSONDict:
        """getChat: the ChatFullInfo of a known chat."""
        chat = self._known_chat(params)
        return {**chat.info, **_CHAT_FULL_INFO_DEFAULTS}

    async def _get_file(self, params: JSONDict, files: dict[str, UploadedFile]) -> JSONDict:
        """getFile: the File object with a path served under base_file_url."""
        stored = self._files.get(str(params.get("file_id", "")))
        if stored is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.content),
            "file_path": stored.file_path,
        }

    async def _set_my_commands(self, params: JSONDict, files: dict[str, UploadedFile]) -> bool:
        """setMyCommands for a scope and language."""
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise ApiError(400, "Bad Request: can't parse commands JSON object")
        for command in commands:
            name = str(command.get("command", "")).removeprefix("/")
            valid_name = 1 <= len(name) <= 32 and all(c in _COMMAND_CHARS for c in name)
            if not valid_name or not 1 <= len(str(command.get("description", ""))) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
        key = _commands_key(params.get("scope"), params.get("language_code", ""))
        self.commands[key] = commands
        return True

    async def _delete_my_commands(self, params: JSONDict, files: dict[str, UploadedFile]) -> bool:
        """deleteMyCommands for a scope and language."""
        self.commands.pop(_commands_key(params.get("scope"), params.get("language_code", "")), None)
        return True

    async def _get_my_commands(
        self, params: JSONDict, files: dict[str, UploadedFile]
    ) -> list[JSONDict]:
        """getMyCommands for exactly that scope and language."""
        return self.commands_for(params.get("scope"), params.get("language_code", "")) or []

    def _profile_setter(self, field_name: str, limit: int) -> Handler:
        """Handler of setMyDescription, setMyShortDescription or setMyName."""

        async def handler(params: JSONDict, files: dict[str, UploadedFile]) -> bool:
            value = str(params.get(field_name, ""))
            if len(value) > limit:
                raise ApiError(400, f"Bad Request: {field_name.upper()}_INVALID")
            key = (field_name, str(params.get("language_code", "")))
            if value:
                self.profile[key] = value
            else:
                self.profile.pop(key, None)
            return True

        return handler

    # ----- shared rules --------------------------------------------------------------------

    def _known_chat(self, params: JSONDict) -> _Chat:
        """The chat named by ``chat_id``, or 400 chat not found."""
        if "chat_id" not in params:
            raise ApiError(400, "Bad Request: chat_id is empty")
        chat = self._chats.get(params["chat_id"])
        if chat is None:
            raise ApiError(400, "Bad Request: chat not found")
        return chat

    def _writable_chat(self, params: JSONDict) -> _Chat:
        """A known chat the bot may still write to, or 403 as Telegram words it."""
        chat = self._known_chat(params)
        self._refuse_migrated(chat)
        if chat.kicked:
            kind = "supergroup" if chat.info["type"] == "supergroup" else "group"
            raise ApiError(403, f"Forbidden: bot was kicked from the {kind} chat")
        if chat.id in self._blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat

    def _editable(self, params: JSONDict) -> tuple[_Chat, SentMessage]:
        """The chat and live message an edit request names."""
        if "inline_message_id" in params:
            raise ApiError(400, "Bad Request: inline messages are not supported by the fake")
        chat = self._writable_chat(params)
        message_id = params.get("message_id")
        if message_id is None:
            raise ApiError(400, "Bad Request: message identifier is not specified")
        message = chat.find(message_id)
        if message is None:
            if message_id in chat.incoming:
                raise ApiError(400, "Bad Request: message can't be edited")
            raise ApiError(400, "Bad Request: message to edit not found")
        return chat, message

    def _admit(self, chat: _Chat) -> None:
        """Flood control: 429 with retry_after when the send would exceed a limit."""
        if self._flood is None:
            return
        retry_after = self._flood.retry_after(chat.id, is_group=chat.is_group)
        if retry_after is not None:
            raise ApiError(
                429,
                f"Too Many Requests: retry after {retry_after}",
                {"retry_after": retry_after},
            )
        self._flood.record(chat.id, is_group=chat.is_group)

    def _record_sent(self, chat: _Chat, **fields: Any) -> SentMessage:
        """Create and keep a new message from the bot in ``chat``."""
        message = SentMessage(
            chat_id=chat.id,
            message_id=chat.allocate_message_id(),
            chat=chat.info,
            sender=self.bot_user,
            date=int(time.time()),
            **fields,
        )
        chat.sent.append(message)
        self._all_sent.append(message)
        self._messages_sent += 1
        return message

    def _input_file(
        self, params: JSONDict, files: dict[str, UploadedFile], field_name: str
    ) -> _StoredFile:
        """The file of a send request: a multipart upload or a file_id the fake knows."""
        upload = files.get(field_name)
        if upload is not None:
            folder = "photos" if field_name == "photo" else "documents"
            return self._store_file(upload.content, upload.filename, upload.content_type, folder)
        if field_name not in params:
            raise ApiError(400, f"Bad Request: there is no {field_name} in the request")
        stored = self._files.get(str(params[field_name]))
        if stored is None:
            raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        return stored

    def _store_file(
        self, content: bytes, file_name: str, mime_type: str, folder: str
    ) -> _StoredFile:
        """Keep a file's bytes under fresh ids and a path for downloads."""
        number = len(self._files) + 1
        suffix = file_name.rpartition(".")[2] if "." in file_name else "bin"
        stored = _StoredFile(
            file_id=f"BQACAgQAAxkBAAI{number:06d}FakeFileId",
            file_unique_id=f"AgAD{number:06d}",
            file_path=f"{folder}/file_{number}.{suffix}",
            file_name=file_name,
            mime_type=mime_type,
            content=content,
        )
        self._files[stored.file_id] = stored
        return stored


def _checked_failure(failure: object) -> Failure:
    """A valid fail_sends argument, or ValueError."""
    if isinstance(failure, ApiError):
        return failure
    if failure == DROP:
        return DROP
    if isinstance(failure, int) and not isinstance(failure, bool) and 400 <= failure <= 599:
        return failure
    raise ValueError(
        f"a send failure is an HTTP status 400-599, {DROP!r} or an ApiError: {failure!r}"
    )


def _api_error(status: int) -> ApiError:
    """Telegram's error answer for an injected HTTP status."""
    if status == 429:
        return ApiError(429, _FAILURE_DESCRIPTIONS[429], {"retry_after": 1})
    description = _FAILURE_DESCRIPTIONS.get(status)
    if description is None:
        try:
            description = HTTPStatus(status).phrase
        except ValueError:
            description = "Error"
    return ApiError(status, description)


def _drop(request: web.Request) -> web.Response:
    """Close the connection without an answer; the client sees a network error.

    aiohttp then fails to write the returned response and quietly drops it.
    """
    if request.transport is not None:
        request.transport.close()
    return web.Response(status=HTTPStatus.NO_CONTENT)


def _message_text(params: JSONDict) -> tuple[str, list[JSONDict]]:
    """Visible text and entities of a message, checked for emptiness and length."""
    text, entities = _formatted(params, "text", "entities")
    if not text.strip():
        raise ApiError(400, "Bad Request: message text is empty")
    if utf16_len(text) > _TEXT_LIMIT:
        raise ApiError(400, "Bad Request: message is too long")
    return text, entities


def _formatted(
    params: JSONDict, text_param: str, entities_param: str
) -> tuple[str, list[JSONDict]]:
    """Visible text and entities of a text or caption, parsed per ``parse_mode``."""
    raw = params.get(text_param)
    if raw is None:
        return "", []
    raw = str(raw)
    parse_mode = params.get("parse_mode")
    if parse_mode is None or parse_mode == "":
        return raw, list(params.get(entities_param) or [])
    if parse_mode.lower() == "html":
        try:
            return parse_html(raw)
        except EntityParseError as error:
            raise ApiError(400, f"Bad Request: can't parse entities: {error}") from None
    if parse_mode.lower() in ("markdown", "markdownv2"):
        return raw, []
    raise ApiError(400, "Bad Request: unsupported parse_mode")


def _caption(params: JSONDict) -> tuple[str, list[JSONDict]]:
    """Visible caption and its entities, length-checked."""
    caption, entities = _formatted(params, "caption", "caption_entities")
    if utf16_len(caption) > _CAPTION_LIMIT:
        raise ApiError(400, "Bad Request: message caption is too long")
    return caption, entities


def _commands_key(scope: JSONDict | None, language_code: str) -> CommandsKey:
    """Key of ``FakeBotAPI.commands``: canonical JSON of the scope, and the language code."""
    return json.dumps(scope or {"type": "default"}, sort_keys=True), language_code


def _document(stored: _StoredFile) -> JSONDict:
    """The Document object of a stored file."""
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_name": stored.file_name,
        "mime_type": stored.mime_type,
        "file_size": len(stored.content),
    }


def _checked_markup(params: JSONDict) -> JSONDict | None:
    """The request's reply_markup after Telegram's inline keyboard checks."""
    markup = params.get("reply_markup")
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    for row in markup.get("inline_keyboard", []):
        for button in row:
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= 64:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
            if not _BUTTON_ACTIONS & button.keys():
                raise ApiError(
                    400,
                    "Bad Request: can't parse inline keyboard button: "
                    "Text buttons are unallowed in the inline keyboard",
                )
    return markup
