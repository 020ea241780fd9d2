"""``homeward``: run the bot, migrate the database, and bootstrap members from a shell.

Every subcommand takes ``--config PATH`` after its own name. Problems end with one
clear line on stderr and a non-zero exit, never a traceback or a secret.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from bot.domain.errors import DomainError
from bot.domain.membership import OrgKind, Role
from bot.logging_setup import configure_logging
from bot.settings import ConfigError, Settings, load_settings

log = logging.getLogger("homeward")

EXIT_OK, EXIT_FAILED, EXIT_CONFIG = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="homeward",
        description="Homeward: coordinate the response when a youth goes missing from care.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument("--config", metavar="PATH", help="TOML settings file")
        return p

    empty_help = "start the sandbox with only an administrator, no seeded world"
    command("run", "Run the bot (with no token configured: the local sandbox).").add_argument(
        "--empty", action="store_true", help=f"{empty_help} (sandbox only)"
    )
    command("sandbox", "Run the local sandbox: emulator, bot and throwaway database.").add_argument(
        "--empty", action="store_true", help=empty_help
    )
    p = command("scenario", "Replay a scenario script (TOML) against a fresh sandbox.")
    p.add_argument("file", metavar="FILE", help="the scenario, e.g. scenarios/escalation.toml")
    p.add_argument("--empty", action="store_true", help=empty_help)
    p.add_argument("--verbose", action="store_true", help="also print what each persona received")

    db = sub.add_parser("db", help="Database schema").add_subparsers(
        dest="db_command", required=True
    )
    for name, text in (
        ("upgrade", "Bring the schema up to date."),
        ("current", "Show the schema revision."),
    ):
        p = db.add_parser(name, help=text)
        p.add_argument("--config", metavar="PATH")

    admin = sub.add_parser("admin", help="Administrators").add_subparsers(
        dest="admin_command", required=True
    )
    p = admin.add_parser("add", help="Add an administrator (the first one comes from here).")
    p.add_argument("--config", metavar="PATH")
    p.add_argument(
        "--telegram-id",
        type=int,
        required=True,
        help="numeric Telegram user id (not the @username)",
    )
    p.add_argument("--name", required=True)
    p.add_argument("--org", help="organisation id or name (optional)")

    org = sub.add_parser("org", help="Organisations").add_subparsers(
        dest="org_command", required=True
    )
    p = org.add_parser("add", help="Add an organisation.")
    p.add_argument("--config", metavar="PATH")
    p.add_argument("--kind", required=True, choices=[k.value for k in OrgKind])
    p.add_argument("--name", required=True)
    p.add_argument("--address")
    p.add_argument("--lat", type=float)
    p.add_argument("--lon", type=float)
    p = org.add_parser("list", help="List organisations.")
    p.add_argument("--config", metavar="PATH")

    invite = sub.add_parser("invite", help="Invites").add_subparsers(
        dest="invite_command", required=True
    )
    p = invite.add_parser("create", help="Create a single-use invite link.")
    p.add_argument("--config", metavar="PATH")
    p.add_argument("--role", required=True, choices=[r.value for r in Role])
    p.add_argument("--org", required=True, help="organisation id or name")

    group = sub.add_parser("group", help="Groups").add_subparsers(
        dest="group_command", required=True
    )
    p = group.add_parser("add", help="Register a group chat the bot may stay in.")
    p.add_argument("--config", metavar="PATH")
    p.add_argument("--chat-id", type=int, required=True)
    p.add_argument("--title", required=True)

    audit = sub.add_parser("audit", help="The timeline").add_subparsers(
        dest="audit_command", required=True
    )
    p = audit.add_parser("verify", help="Check the timeline's hash chain.")
    p.add_argument("--config", metavar="PATH")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(f"homeward: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    configure_logging(
        level=settings.logging.level,
        json=settings.logging.json_lines,
        secrets=settings.secrets(),
        stream=sys.stderr,
    )
    handler = _dispatch(args)
    try:
        return asyncio.run(handler(settings, args))
    except ConfigError as exc:
        print(f"homeward: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return EXIT_OK


Command = Callable[[Settings, argparse.Namespace], Coroutine[Any, Any, int]]


def _dispatch(args: argparse.Namespace) -> Command:
    from bot import commands

    table: dict[str, Command] = {
        "run": commands.run,
        "sandbox": commands.sandbox,
        "scenario": commands.scenario,
        "db": commands.db,
        "admin": commands.admin,
        "org": commands.org,
        "invite": commands.invite,
        "group": commands.group,
        "audit": commands.audit,
    }
    return table[args.command]


async def wait_for_stop_signal() -> None:
    """Return on SIGTERM or SIGINT (Ctrl-C)."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError):
                loop.remove_signal_handler(sig)


def fail(message: str) -> int:
    print(f"homeward: {message}", file=sys.stderr)
    return EXIT_FAILED


def domain_failure(error: DomainError) -> int:
    return fail(error.detail or error.code)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
