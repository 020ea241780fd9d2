"""Flood limits, modelled as token buckets on ``limits_clock.monotonic()``.

Every sending method (sendMessage, sendPhoto, sendLocation, sendVenue) and every edit
(editMessageText, editMessageCaption, editMessageReplyMarkup,
editMessageMedia) takes one token from
*each* bucket that applies, and only if all of them have a whole token:

* overall:           capacity 30, refills 30 tokens/s  (about 30 messages/s);
* per private chat:  capacity 3,  refills 1 token/s    (1 message/s, short bursts of 3);
* per group chat:    capacity 20, refills 20 tokens/min (20 messages/minute).

A request that finds any bucket empty is refused with 429 ``Too Many Requests: retry
after N`` and ``parameters.retry_after = N``, where N is the whole number of seconds
(at least 1, rounded up) until every bucket involved has a token again. A refused
request consumes nothing. Requests that fail validation are not counted either.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from bot.clock import Clock
from bot.emulator.models import ApiError

SENDING_METHODS = frozenset({"sendmessage", "sendphoto", "sendlocation", "sendvenue"})
EPSILON = 1e-9  # float slack, so refills of exactly 1/rate seconds count as whole tokens
EDIT_METHODS = frozenset(
    {"editmessagetext", "editmessagecaption", "editmessagereplymarkup", "editmessagemedia"}
)


@dataclass
class Bucket:
    capacity: float
    rate: float  # tokens per second
    tokens: float
    stamp: float

    def refill(self, now: float) -> None:
        if now > self.stamp:
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = max(self.stamp, now)

    def wait_time(self) -> float:
        """Seconds until one whole token is available (0 if one is already)."""
        if self.tokens >= 1.0 - EPSILON:
            return 0.0
        return (1.0 - self.tokens) / self.rate


@dataclass(frozen=True)
class LimitConfig:
    overall_capacity: float = 30.0
    overall_rate: float = 30.0
    private_capacity: float = 3.0
    private_rate: float = 1.0
    group_capacity: float = 20.0
    group_rate: float = 20.0 / 60.0


class RateLimiter:
    def __init__(self, clock: Clock, config: LimitConfig | None = None) -> None:
        self.clock = clock
        self.config = config or LimitConfig()
        self._overall: Bucket | None = None
        self._chats: dict[int, Bucket] = {}

    def reset(self) -> None:
        self._overall = None
        self._chats.clear()

    def _bucket_overall(self, now: float) -> Bucket:
        if self._overall is None:
            cfg = self.config
            self._overall = Bucket(
                cfg.overall_capacity, cfg.overall_rate, cfg.overall_capacity, now
            )
        return self._overall

    def _bucket_chat(self, chat_id: int, private: bool, now: float) -> Bucket:
        bucket = self._chats.get(chat_id)
        if bucket is None:
            cfg = self.config
            cap, rate = (
                (cfg.private_capacity, cfg.private_rate)
                if private
                else (cfg.group_capacity, cfg.group_rate)
            )
            bucket = Bucket(cap, rate, cap, now)
            self._chats[chat_id] = bucket
        return bucket

    def acquire(self, chat_id: int, private: bool) -> None:
        """Take one token for a message to ``chat_id`` or raise ApiError(429)."""
        now = self.clock.monotonic()
        buckets = [self._bucket_overall(now), self._bucket_chat(chat_id, private, now)]
        for bucket in buckets:
            bucket.refill(now)
        wait = max(bucket.wait_time() for bucket in buckets)
        if wait > 0:
            retry_after = max(1, math.ceil(wait - 1e-9))
            raise ApiError(
                429,
                f"Too Many Requests: retry after {retry_after}",
                {"retry_after": retry_after},
            )
        for bucket in buckets:
            bucket.tokens = max(0.0, bucket.tokens - 1.0)
