"""Leadership for singleton work (the timer scheduler) across instances.

PostgreSQL: a session-level ``pg_try_advisory_lock`` held on a dedicated connection
for as long as this instance leads. If the process dies its session ends and the
lock goes with it, so another instance wins on its next attempt. SQLite serves a
single instance (enforced by a lock file at start), which always leads.
"""

from __future__ import annotations

import contextlib
import logging

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.db import Database

log = logging.getLogger(__name__)

# An arbitrary, fixed 64-bit key: "HOMEWARD" timers.
SCHEDULER_LOCK_KEY = 0x484F4D4557_0001


class AdvisoryLeader:
    def __init__(self, db: Database, key: int = SCHEDULER_LOCK_KEY) -> None:
        self.db = db
        self.key = key
        self._conn: AsyncConnection | None = None

    @property
    def leading(self) -> bool:
        return self.db.dialect != "postgresql" or self._conn is not None

    async def try_lead(self) -> bool:
        """True if this instance leads now (keeps the lock, or just took it)."""
        if self.db.dialect != "postgresql":
            return True
        if self._conn is not None:
            try:
                await self._conn.execute(text("SELECT 1"))
                await self._conn.commit()
                return True
            except Exception:
                log.warning("scheduler: lost the leadership connection; trying again")
                await self._drop()
        conn = await self.db.engine.connect()
        try:
            won = bool(
                (
                    await conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key})
                ).scalar_one()
            )
            # The lock belongs to the session, not the transaction: end the transaction
            # so the held connection is not left idle in one.
            await conn.commit()
        except BaseException:
            await conn.close()
            raise
        if not won:
            await conn.close()
            return False
        self._conn = conn
        log.info("scheduler: this instance now leads")
        return True

    async def release(self) -> None:
        conn = self._conn
        if conn is None:
            return
        try:
            await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
            await conn.commit()
        except Exception:
            # Invalidating ends the session, and the lock with it.
            log.warning("scheduler: could not unlock cleanly; dropping the connection")
            await self._drop()
            return
        self._conn = None
        await conn.close()

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.invalidate()
            with contextlib.suppress(Exception):
                await conn.close()
