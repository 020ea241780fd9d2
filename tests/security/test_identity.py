"""T05 (static part): no authorisation code path reads a Telegram ``username``.

Identity is the numeric ``effective_user.id``; usernames change hands (T05's impostor takes
the old one; tests/e2e covers the journey). This scans the syntax tree of every module in
``bot/``, ``handlers/`` and ``storage/`` (the emulator under ``bot/emulator/`` plays Telegram,
so it is excluded) for any way of reading a username:

* an attribute ``.username`` / ``.active_usernames``;
* ``getattr(x, "username")``, ``x["username"]``, ``x.get("username")``.

The only reads allowed are the bot's *own* username, used to render invite links and to
say which bot is running; each is listed by file and expression below.
"""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("bot", "handlers", "storage")
# The emulator, and the sandbox's fictional cast that gives emulator users their
# usernames: they play Telegram's part, they never identify a member.
EXCLUDED = ("bot/emulator/", "bot/sandbox_world.py")
NAMES = frozenset({"username", "active_usernames"})

# (file, expression read) -> how many times. All of them are the bot's own username.
ALLOWED: Counter[tuple[str, str]] = Counter(
    {
        ("bot/app.py", "me.username"): 2,  # startup log and privacy-mode warning; me = app.bot.bot
        ("bot/commands.py", "homeward.application.bot.username"): 1,  # "running as @..."
        ("handlers/buttons.py", "context.bot.username"): 1,  # the t.me/<bot>?start=<code> link
    }
)


def username_reads(source: str) -> list[str]:
    """Each expression in ``source`` that reads a username, as text."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        attribute = isinstance(node, ast.Attribute) and node.attr in NAMES
        subscript = isinstance(node, ast.Subscript) and _is_name_constant(node.slice)
        if attribute or subscript:
            found.append(ast.unparse(node))
        elif isinstance(node, ast.Call):
            func = node.func
            getter = isinstance(func, ast.Name) and func.id in ("getattr", "hasattr")
            dict_get = isinstance(func, ast.Attribute) and func.attr in ("get", "pop")
            index = 1 if getter else 0
            if (
                (getter or dict_get)
                and len(node.args) > index
                and _is_name_constant(node.args[index])
            ):
                found.append(ast.unparse(node))
    return found


def _is_name_constant(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value in NAMES


def _sources() -> list[Path]:
    files = []
    for top in SCANNED:
        for path in sorted((ROOT / top).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if not rel.startswith(EXCLUDED):
                files.append(path)
    return files


def test_the_scanner_sees_every_way_of_reading_a_username() -> None:
    sample = (
        "def f(update, data, user):\n"
        "    a = update.effective_user.username\n"
        "    b = getattr(user, 'username', None)\n"
        "    c = data['username']\n"
        "    d = data.get('username')\n"
        "    e = user.active_usernames\n"
        "    return user.id, user.first_name, data['id']\n"
    )
    assert username_reads(sample) == [
        "update.effective_user.username",
        "getattr(user, 'username', None)",
        "data['username']",
        "data.get('username')",
        "user.active_usernames",
    ]


def test_no_code_path_reads_a_username_except_the_bots_own() -> None:
    sources = _sources()
    assert len(sources) > 20, "the scan found too few files: wrong root?"
    assert any(p.relative_to(ROOT).as_posix() == "handlers/gate.py" for p in sources)
    found: Counter[tuple[str, str]] = Counter()
    for path in sources:
        rel = path.relative_to(ROOT).as_posix()
        for expression in username_reads(path.read_text(encoding="utf-8")):
            found[(rel, expression)] += 1
    unexpected = found - ALLOWED
    assert not unexpected, (
        "username read outside the allowed list (identity must be the numeric id): "
        f"{dict(unexpected)}"
    )
    # Every allowed read is of the bot itself, never of a person.
    for _file, expression in found:
        assert expression.endswith("bot.username") or expression == "me.username", expression
