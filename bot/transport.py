"""An aiohttp-based transport for python-telegram-bot (``telegram.request.BaseRequest``).

Why not PTB's default ``HTTPXRequest``: with concurrent updates its throughput collapsed (httpcore's
connection pool scan is quadratic) and sends that had in fact reached the server raised
``TimedOut``. This class keeps PTB's request semantics (body encoding, timeouts, error types) on top
of one ``aiohttp.ClientSession``.

Errors say whether the request may have reached Telegram, so that a sender can decide on retries:

* :class:`ConnectFailed` (and its timeout subclasses :class:`PoolTimedOut`,
  :class:`ConnectTimedOut`): the request was certainly **not** delivered; retrying is safe.
* :class:`ReadTimedOut` and :class:`ConnectionLost`: the request was (at least partly) sent and
  Telegram may have acted on it; ``delivery_uncertain`` is ``True``.

Every exception class here carries a class attribute ``delivery_uncertain``; use
:func:`delivery_uncertain` for any exception (unknown ones count as uncertain).

Request URLs contain the bot token, so they never appear in exception messages or logs, and the
aiohttp exception (whose text may contain the URL) is not chained as ``__cause__``.
"""

from __future__ import annotations

import asyncio
import re
from typing import ClassVar
from urllib.parse import urlencode

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

__all__ = [
    "AiohttpRequest",
    "ConnectFailed",
    "ConnectTimedOut",
    "ConnectionLost",
    "PoolTimedOut",
    "ReadTimedOut",
    "delivery_uncertain",
]

_FORM_URLENCODED = "application/x-www-form-urlencoded"
_TOKEN_RE = re.compile(r"\d{6,}:[A-Za-z0-9_-]{30,}")


class ConnectFailed(NetworkError):
    """No connection to the server could be used: the request was certainly not delivered."""

    __slots__ = ()
    delivery_uncertain: ClassVar[bool] = False


class PoolTimedOut(ConnectFailed, TimedOut):
    """No free connection in the pool within ``pool_timeout``; nothing was sent."""

    __slots__ = ()


class ConnectTimedOut(ConnectFailed, TimedOut):
    """Establishing the connection took longer than ``connect_timeout``; nothing was sent."""

    __slots__ = ()


class ReadTimedOut(TimedOut):
    """The request was sent but no (complete) answer arrived in time: delivery uncertain."""

    __slots__ = ()
    delivery_uncertain: ClassVar[bool] = True


class ConnectionLost(NetworkError):
    """The connection broke after the request started: delivery uncertain."""

    __slots__ = ()
    delivery_uncertain: ClassVar[bool] = True


def delivery_uncertain(exc: BaseException) -> bool:
    """Whether Telegram may have received the request that raised ``exc``.

    ``False`` only for errors that certainly happened before anything was sent
    (:class:`ConnectFailed` and subclasses). Unknown errors count as uncertain.
    """
    return bool(getattr(exc, "delivery_uncertain", True))


def _resolve(value: ODVInput[float], default: float | None) -> float | None:
    """PTB's ``DEFAULT_NONE`` semantics: a DefaultValue means "use the instance default"."""
    if isinstance(value, DefaultValue):
        return default
    return value


class AiohttpRequest(BaseRequest):
    """:class:`telegram.request.BaseRequest` implemented with :mod:`aiohttp`.

    Args:
        connection_pool_size: Maximum number of simultaneous connections (and requests).
        connect_timeout: Seconds to establish a connection (``None``: no limit).
        read_timeout: Seconds without data from the server while awaiting the answer.
            PTB raises this per call for ``getUpdates`` long polling (``read_timeout + timeout``).
        write_timeout: Seconds budgeted for sending the request body (see note).
        pool_timeout: Seconds to wait for a free connection slot.
        media_write_timeout: Like ``write_timeout``, for requests that upload files.

    Note:
        aiohttp has no separate write timeout. The write budget is enforced as part of an overall
        deadline of ``connect + write + read`` seconds per request (only when all three are
        finite); exceeding it raises :class:`ReadTimedOut`, since part of the request may
        have been sent. For file uploads the read timeout also gets the write budget added,
        because aiohttp's read timer runs while the body is still being uploaded.

    The session is created in :meth:`initialize` (never at construction), ignores proxy
    environment variables (``trust_env=False``) and is closed by :meth:`shutdown`.
    """

    __slots__ = (
        "_connect_timeout",
        "_media_write_timeout",
        "_pool_size",
        "_pool_timeout",
        "_read_timeout",
        "_semaphore",
        "_session",
        "_write_timeout",
    )

    def __init__(
        self,
        *,
        connection_pool_size: int = 32,
        connect_timeout: float | None = 5.0,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        if connection_pool_size < 1:
            raise ValueError("connection_pool_size must be at least 1")
        self._pool_size = connection_pool_size
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None
        self._semaphore: asyncio.Semaphore | None = None

    @property
    def read_timeout(self) -> float | None:
        """The default read timeout (PTB adds the long-polling ``timeout`` to it)."""
        return self._read_timeout

    @property
    def is_initialized(self) -> bool:
        """``True`` between :meth:`initialize` and :meth:`shutdown`."""
        return self._session is not None and not self._session.closed

    async def initialize(self) -> None:
        """Create the HTTP session (idempotent; also re-opens after :meth:`shutdown`)."""
        if self.is_initialized:
            return
        connector = aiohttp.TCPConnector(limit=self._pool_size, limit_per_host=0)
        self._semaphore = asyncio.Semaphore(self._pool_size)
        self._session = aiohttp.ClientSession(
            connector=connector,
            trust_env=False,
            timeout=aiohttp.ClientTimeout(total=None),
            headers={"User-Agent": self.USER_AGENT},
            raise_for_status=False,
        )

    async def shutdown(self) -> None:
        """Close the session and its connections (idempotent)."""
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Send one request; see :meth:`telegram.request.BaseRequest.do_request`."""
        session, semaphore = self._session, self._semaphore
        if session is None or session.closed or semaphore is None:
            raise RuntimeError("This AiohttpRequest is not initialized!")

        has_files = request_data is not None and request_data.contains_files
        read_s = _resolve(read_timeout, self._read_timeout)
        connect_s = _resolve(connect_timeout, self._connect_timeout)
        pool_s = _resolve(pool_timeout, self._pool_timeout)
        write_s = _resolve(
            write_timeout, self._media_write_timeout if has_files else self._write_timeout
        )
        total_s = (
            None
            if read_s is None or connect_s is None or write_s is None
            else connect_s + write_s + read_s
        )
        # aiohttp starts its read timer as soon as the headers are sent, while a file body may
        # still be uploading; give uploads their write budget on top of the read timeout.
        sock_read_s = read_s
        if has_files and read_s is not None:
            sock_read_s = None if write_s is None else read_s + write_s
        timeout = aiohttp.ClientTimeout(
            total=total_s, connect=connect_s, sock_connect=connect_s, sock_read=sock_read_s
        )

        data: aiohttp.FormData | bytes | None = None
        headers: dict[str, str] = {}
        if request_data is not None:
            if has_files:
                data = _multipart(request_data)
            else:
                data = urlencode(request_data.json_parameters).encode("ascii")
                headers["Content-Type"] = _FORM_URLENCODED

        await _acquire(semaphore, pool_s)
        try:
            async with session.request(
                method, url, data=data, headers=headers, timeout=timeout, allow_redirects=False
            ) as response:
                payload = await response.read()
                return response.status, payload
        except aiohttp.ConnectionTimeoutError:
            raise ConnectTimedOut(
                f"Connect timeout: no connection within {connect_s}s. "
                "Request was *not* sent to Telegram."
            ) from None
        except aiohttp.ServerTimeoutError:
            # SocketTimeoutError: no data for sock_read seconds after the request was sent.
            raise ReadTimedOut(
                f"Read timeout: no response within {sock_read_s}s. "
                "The request was sent; delivery is uncertain."
            ) from None
        except aiohttp.ClientConnectorError as err:
            raise ConnectFailed(
                f"Connect failed: aiohttp.{type(err).__name__}: cannot connect to "
                f"{err.host}:{err.port}: {_scrub(str(err.os_error), url)}. "
                "Request was *not* sent to Telegram."
            ) from None
        except (
            aiohttp.ServerDisconnectedError,
            aiohttp.ClientConnectionResetError,
            aiohttp.ClientOSError,
            aiohttp.ClientPayloadError,
        ) as err:
            raise ConnectionLost(
                f"Connection lost: aiohttp.{type(err).__name__}: {_scrub(str(err), url)}. "
                "Delivery is uncertain."
            ) from None
        except aiohttp.ClientResponseError as err:
            raise NetworkError(
                f"Invalid response: aiohttp.{type(err).__name__}: {err.status} "
                f"{_scrub(err.message, url)}"
            ) from None
        except aiohttp.ClientError as err:
            raise NetworkError(f"aiohttp.{type(err).__name__}: {_scrub(str(err), url)}") from None
        except TimeoutError:
            # The overall deadline (connect + write + read) expired, during upload or reading.
            raise ReadTimedOut(
                f"Write/read timeout: request not completed within {total_s}s. "
                "Delivery is uncertain."
            ) from None
        finally:
            semaphore.release()


async def _acquire(semaphore: asyncio.Semaphore, pool_timeout: float | None) -> None:
    """Take a connection slot, or raise :class:`PoolTimedOut` (nothing sent)."""
    if not semaphore.locked() or pool_timeout is None:
        await semaphore.acquire()
        return
    try:
        async with asyncio.timeout(pool_timeout):
            await semaphore.acquire()
    except TimeoutError:
        raise PoolTimedOut(
            "Pool timeout: All connections in the connection pool are occupied. "
            "Request was *not* sent to Telegram. Consider adjusting the connection "
            "pool size or the pool timeout."
        ) from None


def _multipart(request_data: RequestData) -> aiohttp.FormData:
    """multipart/form-data as PTB expects: plain fields, then files.

    ``multipart_data`` maps part name to ``(filename, content, mimetype)``.
    """
    form = aiohttp.FormData(quote_fields=False)
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, (filename, content, mimetype) in request_data.multipart_data.items():
        form.add_field(name, content, filename=filename, content_type=mimetype)
    return form


def _scrub(text: str, url: str) -> str:
    """Remove the request URL and anything token-shaped from an error text."""
    return _TOKEN_RE.sub("<token>", text.replace(url, "<url>"))
