"""Start-up refusals (T29): one process per SQLite file, and never on an old schema.

These build real apps on SQLite files of their own (whatever backend the suite tests):
the single-instance lock exists only for SQLite, and SQLite needs no server.
``preflight()`` does not talk to Telegram.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.app import Homeward, StartupError, build_app
from bot.settings import load_settings
from storage.migrate import upgrade

TOKEN = "123456789:AAE_" + "x" * 31
REPO = Path(__file__).resolve().parents[2]


def _url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
async def make_app() -> AsyncIterator[Callable[[str], Homeward]]:
    """Builds apps; stops every one of them at the end (stop() is safe to repeat)."""
    apps: list[Homeward] = []

    def make(url: str) -> Homeward:
        settings = load_settings(
            None, telegram={"token": SecretStr(TOKEN)}, database={"url": SecretStr(url)}
        )
        app = build_app(settings)
        apps.append(app)
        return app

    yield make
    for app in apps:
        await app.stop()


async def test_second_process_on_the_same_sqlite_file_is_refused(
    tmp_path: Path, make_app: Callable[[str], Homeward]
) -> None:
    url = _url(tmp_path / "one.db")
    await upgrade(url)

    first = make_app(url)
    await first.preflight()

    second = make_app(url)
    with pytest.raises(StartupError, match="another Homeward process") as refused:
        await second.preflight()
    assert str(tmp_path / "one.db") in str(refused.value)
    await second.stop()

    # The refusal is not sticky: once the first lets go, a new one may start.
    await first.stop()
    third = make_app(url)
    await third.preflight()

    # A different SQLite file is a different instance.
    other_url = _url(tmp_path / "two.db")
    await upgrade(other_url)
    await make_app(other_url).preflight()


async def test_lock_file_is_owner_only(tmp_path: Path, make_app: Callable[[str], Homeward]) -> None:
    url = _url(tmp_path / "perm.db")
    await upgrade(url)
    await make_app(url).preflight()
    lock = tmp_path / "perm.db.lock"
    assert lock.exists()
    assert lock.stat().st_mode & 0o777 == 0o600


async def test_preflight_refuses_a_database_without_schema(
    tmp_path: Path, make_app: Callable[[str], Homeward]
) -> None:
    path = tmp_path / "empty.db"
    app = make_app(_url(path))
    with pytest.raises(StartupError, match="homeward db upgrade"):
        await app.preflight()
    # Refused before taking the single-instance lock: a migrated start can follow.
    await app.stop()
    await upgrade(_url(path))
    await make_app(_url(path)).preflight()


def test_run_against_an_unmigrated_database_exits_with_one_clear_line(tmp_path: Path) -> None:
    db_path = tmp_path / "fresh.db"
    config = tmp_path / "homeward.toml"
    config.write_text(
        "[telegram]\n"
        f'token = "{TOKEN}"\n'
        'base_url = "http://127.0.0.1:9/bot"\n'  # port 9 refuses: nothing must reach it
        "[database]\n"
        f'url = "{_url(db_path)}"\n',
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOMEWARD_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    result = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "bot.cli", "run", "--config", str(config)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    stderr = result.stderr
    assert result.returncode != 0
    assert "Traceback" not in stderr, stderr
    assert TOKEN not in stderr
    assert TOKEN not in result.stdout
    assert TOKEN.split(":")[1] not in stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "homeward db upgrade" in lines[0]
