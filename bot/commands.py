"""The bodies of the ``homeward`` subcommands (argument parsing lives in ``bot.cli``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable

from telegram.error import InvalidToken

from bot.app import StartupError, build_app, service_context
from bot.cli import (
    EXIT_CONFIG,
    EXIT_FAILED,
    EXIT_OK,
    domain_failure,
    fail,
    wait_for_stop_signal,
)
from bot.domain.errors import DomainError, NotFound
from bot.domain.membership import OrgKind, Role
from bot.logging_setup import RedactingFilter
from bot.services import groups, history, invites, members
from bot.services.context import ServiceContext
from bot.settings import Settings
from storage.db import open_database
from storage.migrate import current_revision, head_revision, upgrade


async def run(settings: Settings, args: argparse.Namespace) -> int:
    if settings.telegram.token is None:
        return await sandbox(settings, args)
    settings.check_for_run()
    homeward = build_app(settings)
    try:
        await homeward.start()
    except StartupError as exc:
        await homeward.stop()
        return fail(str(exc))
    except InvalidToken:
        await homeward.stop()
        return fail("telegram.token: rejected by Telegram (check the token from @BotFather)")
    except Exception as exc:
        await homeward.stop()
        # Library messages can quote the token or a URL that contains it.
        detail = RedactingFilter(settings.secrets()).redact(str(exc))
        return fail(f"could not start: {type(exc).__name__}: {detail}")
    print(
        f"Homeward is running as @{homeward.application.bot.username}. Stop with Ctrl-C.",
        flush=True,
    )
    try:
        await wait_for_stop_signal()
    finally:
        await homeward.stop()
    return EXIT_OK


async def sandbox(settings: Settings, args: argparse.Namespace) -> int:
    from bot.sandbox import start_sandbox

    try:
        box = await start_sandbox(settings, empty=getattr(args, "empty", False))
    except OSError as exc:
        return fail(
            f"could not start the sandbox on {settings.sandbox.host}:"
            f"{settings.sandbox.port}: {exc.strerror or exc}"
        )
    print(box.banner(), flush=True)
    try:
        await wait_for_stop_signal()
    finally:
        await box.stop()
    return EXIT_OK


async def scenario(settings: Settings, args: argparse.Namespace) -> int:
    from bot.scenario import ScenarioError, StepResult, load_scenario, run_scenario

    try:
        script = load_scenario(args.file)
        script.check_world(empty=args.empty or script.empty)
    except ScenarioError as exc:
        print(f"homeward: scenario error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    print(f"Scenario: {script.title} ({len(script.steps)} steps)", flush=True)

    def report(result: StepResult) -> None:
        print(result.line(verbose=args.verbose), flush=True)

    try:
        results = await run_scenario(settings, script, empty=args.empty, report=report)
    except OSError as exc:
        return fail(f"could not start the sandbox: {exc.strerror or exc}")
    failed = [r for r in results if not r.ok]
    if failed:
        skipped = len(script.steps) - len(results)
        tail = f"; {skipped} later step(s) not run" if skipped else ""
        print(f"FAILED at step {failed[0].step.number}{tail}", flush=True)
        return EXIT_FAILED
    print(f"PASSED: all {len(results)} steps", flush=True)
    return EXIT_OK


async def db(settings: Settings, args: argparse.Namespace) -> int:
    url = settings.database.url.get_secret_value()
    if args.db_command == "upgrade":
        await upgrade(url)
        print(f"database schema is up to date (revision {head_revision()})")
        return EXIT_OK
    database = open_database(url)
    try:
        current = await current_revision(database)
    finally:
        await database.dispose()
    head = head_revision()
    state = "up to date" if current == head else "out of date: run `homeward db upgrade`"
    print(f"schema revision {current or 'none'} (newest {head}): {state}")
    return EXIT_OK


async def _with_services(
    settings: Settings, body: Callable[[ServiceContext], Awaitable[int]]
) -> int:
    url = settings.database.url.get_secret_value()
    database = open_database(url)
    try:
        ctx = service_context(settings, database)
        try:
            return await body(ctx)
        except DomainError as error:
            return domain_failure(error)
    finally:
        await database.dispose()


async def _org_id(ctx: ServiceContext, ref: str) -> int:
    async with ctx.uow() as uow:
        org = await uow.organisations.get(int(ref)) if ref.isdigit() else None
        if org is None:
            org = await uow.organisations.get_by_name(ref)
    if org is None:
        raise NotFound(f"no organisation {ref!r} (see `homeward org list`)")
    return org.id


async def admin(settings: Settings, args: argparse.Namespace) -> int:
    async def body(ctx: ServiceContext) -> int:
        org_id = await _org_id(ctx, args.org) if args.org else None
        member = await members.add_admin(
            ctx, telegram_id=args.telegram_id, name=args.name, org_id=org_id
        )
        print(f"administrator #{member.id} added for Telegram id {member.telegram_id}")
        return EXIT_OK

    return await _with_services(settings, body)


async def org(settings: Settings, args: argparse.Namespace) -> int:
    async def body(ctx: ServiceContext) -> int:
        if args.org_command == "list":
            async with ctx.uow() as uow:
                orgs = await uow.organisations.list()
            for o in orgs:
                print(f"#{o.id}\t{o.kind.value}\t{o.name}")
            if not orgs:
                print("no organisations yet")
            return EXIT_OK
        created = await members.create_org(
            ctx,
            actor_telegram_id=None,
            kind=OrgKind(args.kind),
            name=args.name,
            address=args.address,
            latitude=args.lat,
            longitude=args.lon,
        )
        print(f"organisation #{created.id} added: {created.name} ({created.kind.value})")
        return EXIT_OK

    return await _with_services(settings, body)


async def invite(settings: Settings, args: argparse.Namespace) -> int:
    async def body(ctx: ServiceContext) -> int:
        org_id = await _org_id(ctx, args.org)
        created = await invites.create(
            ctx, actor_telegram_id=None, role=Role(args.role), org_id=org_id
        )
        username = settings.telegram.bot_username
        link = (
            f"https://t.me/{username}?start={created.code}"
            if username
            else f"/start {created.code}  (set telegram.bot_username to print a t.me link)"
        )
        print(
            f"single-use invite for a {args.role} of {created.organisation.name}, "
            f"valid {created.ttl_hours:g} h:\n{link}"
        )
        return EXIT_OK

    return await _with_services(settings, body)


async def group(settings: Settings, args: argparse.Namespace) -> int:
    async def body(ctx: ServiceContext) -> int:
        await groups.register(ctx, chat_id=args.chat_id, title=args.title)
        print(f"group {args.chat_id} registered")
        return EXIT_OK

    return await _with_services(settings, body)


async def audit(settings: Settings, args: argparse.Namespace) -> int:
    async def body(ctx: ServiceContext) -> int:
        checked, problems = await history.verify(ctx)
        if not problems:
            print(f"timeline intact: {checked} events, hash chain verified")
            return EXIT_OK
        for problem in problems:
            print(f"event #{problem.event_id}: {problem.reason}")
        return fail(f"timeline verification failed at {len(problems)} place(s)")

    return await _with_services(settings, body)
