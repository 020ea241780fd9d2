"""``homeward scenario FILE`` as a trainer runs it: one line per step, exit 0 when every
step passes, 1 at the first failure, 2 for a bad file (never a traceback)."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

import pytest

from bot import commands
from bot.cli import EXIT_CONFIG, EXIT_FAILED, EXIT_OK, _parser
from bot.settings import Settings

REPO = Path(__file__).resolve().parents[2]


def _args(path: Path, *, verbose: bool = False) -> argparse.Namespace:
    return argparse.Namespace(file=str(path), empty=True, verbose=verbose)


async def test_passing_and_failing_scenarios_exit_0_and_1(
    tmp_path: Path, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    passing = tmp_path / "pass.toml"
    passing.write_text(
        'title = "Who am I"\n[[step]]\nas = "admin"\nsay = "/whoami"\nexpect = "Sandbox Admin"\n',
        encoding="utf-8",
    )
    assert await commands.scenario(settings, _args(passing, verbose=True)) == EXIT_OK
    out = capsys.readouterr().out
    assert "Scenario: Who am I (1 steps)" in out
    assert "✓  1. admin says “/whoami”" in out
    assert "→ admin: Sandbox Admin" in out  # --verbose shows what came
    assert "PASSED: all 1 steps" in out

    failing = tmp_path / "fail.toml"
    failing.write_text(
        '[[step]]\nas = "admin"\nsay = "/whoami"\nexpect = "Coordinator"\n'
        '[[step]]\nas = "admin"\nsay = "/help"\n',
        encoding="utf-8",
    )
    assert await commands.scenario(settings, _args(failing)) == EXIT_FAILED
    out = capsys.readouterr().out
    assert "✗  1. admin says “/whoami”" in out
    assert "expected admin to get “Coordinator”, but they got 1 message(s)" in out
    assert "FAILED at step 1; 1 later step(s) not run" in out
    assert "→" not in out  # not verbose


async def test_a_bad_file_exits_2_with_one_line_from_the_real_command(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text('[[step]]\nas = "staff1"\nsay = "/help"\n', encoding="utf-8")
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    # This checkout's code, whatever is installed, from a directory without a config.
    path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path}
    env.pop("HOMEWARD_CONFIG", None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "scenario",
        str(broken),
        "--empty",
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == EXIT_CONFIG
    assert out == b""
    assert err.decode().strip() == (
        "homeward: scenario error: step 1: unknown persona 'staff1'; the empty world has: admin"
    )


def test_run_and_sandbox_take_empty() -> None:
    parser = _parser()
    assert parser.parse_args(["run", "--empty"]).empty is True
    assert parser.parse_args(["sandbox"]).empty is False
    assert parser.parse_args(["sandbox", "--empty"]).empty is True
    args = parser.parse_args(["scenario", "x.toml", "--empty", "--verbose"])
    assert (args.file, args.empty, args.verbose) == ("x.toml", True, True)
