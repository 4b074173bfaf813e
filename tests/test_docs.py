"""The README against the code: every registered source kind with its keys, every config key, every event
type and every command (with its options) is documented, and every command the README shows exists.

Each check is a function of the README's text returning what is wrong, so the same check is also run on a
README with one thing taken out, to show it notices."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import click
import pytest

from events.event import EVENT_TYPES as ALL_EVENT_TYPES
from monitors.base import MONITORS, Monitor
from notifiers.subscribers import OPERATOR_KEYS, SUBSCRIBER_KEYS
from rules.ice_rules import Rules
from watch287g.cli import main
from watch287g.config import TOP_LEVEL_KEYS  # importing config registers every source kind

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
GLOBAL_OPTIONS = {"--config"}  # taken by every command, documented once at the top of Commands


EVENT_TYPES = sorted(ALL_EVENT_TYPES)  # the code's one table: new_event refuses any other type


def section(readme: str, title: str) -> str:
    """The text under a `## title` heading, up to the next `## ` heading."""
    match = re.search(rf"^## {re.escape(title)}[^\n]*\n(.*?)(?=^## |\Z)", readme, re.MULTILINE | re.DOTALL)
    return match.group(1) if match else ""


def table_rows(text: str) -> list[list[str]]:
    """Markdown table rows as cells (a `\\|` inside a cell is not a separator); header rules left out."""
    return [
        [cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        for line in text.splitlines()
        if line.startswith("|") and not set(line) <= set("|-: ")
    ]


def code(text: str) -> set[str]:
    return set(re.findall(r"`([^`]+)`", text))


def row_named(text: str, first_cell: str) -> list[str] | None:
    return next((row for row in table_rows(text) if row and row[0] == first_cell), None)


def missing_kinds(readme: str) -> list[str]:
    """Each registered kind has a row in Reference naming every key it declares; `name` and `kind` are
    said once."""
    reference = section(readme, "Reference")
    missing = [f"key {f.name}" for f in Monitor.common_fields if f.name not in code(reference)]
    for kind, monitor in sorted(MONITORS.items()):
        row = row_named(reference, f"`{kind}`")
        if row is None:
            missing.append(f"kind {kind}")
            continue
        missing += [f"{kind}: key {f.name}" for f in monitor.fields if f.name not in code(row[-1])]
    return missing


CONFIG_KEYS = {
    "top level": list(TOP_LEVEL_KEYS),
    "`rules`": list(Rules.__dataclass_fields__),
    "`subscribers` (each)": list(SUBSCRIBER_KEYS),
    "`operators`": list(OPERATOR_KEYS),
}


def missing_config_keys(readme: str) -> list[str]:
    reference, missing = section(readme, "Reference"), []
    for where, keys in CONFIG_KEYS.items():
        row = row_named(reference, where)
        missing += [f"{where}: {key}" for key in keys if row is None or key not in code(row[-1])]
    return missing


def missing_event_types(readme: str) -> list[str]:
    """Each event type is in the first column of the Events table."""
    documented = {name for row in table_rows(section(readme, "Events")) for name in code(row[0])}
    return [kind for kind in EVENT_TYPES if kind not in documented]


def _options(command: click.Command) -> list[list[str]]:
    return [
        p.opts for p in command.params if isinstance(p, click.Option) and not GLOBAL_OPTIONS & set(p.opts)
    ]


def missing_commands(readme: str) -> list[str]:
    """Each command has a row in the Commands table whose synopsis shows every option it takes."""
    commands = section(readme, "Commands")
    synopses = {
        span.split()[1]: span
        for row in table_rows(commands)
        for span in code(row[0])
        if span.startswith("watch287g ") and len(span.split()) > 1
    }
    synopses |= {  # a command group's commands ("watch287g moa read FILE") each have their own row
        " ".join(span.split()[1:3]): span
        for row in table_rows(commands)
        for span in code(row[0])
        if span.startswith("watch287g ") and len(span.split()) > 2
    }
    missing = [f"option {option}" for option in sorted(GLOBAL_OPTIONS) if option not in commands]
    for name, command in sorted(_leaf_commands().items()):
        if name not in synopses:
            missing.append(f"command {name}")
            continue
        shown = set(re.findall(r"(?<![\w-])--?[a-z][\w-]*", synopses[name]))
        missing += [f"{name} {'/'.join(opts)}" for opts in _options(command) if not shown & set(opts)]
    return missing


def _leaf_commands() -> dict[str, click.Command]:
    """Every command by the words that call it: "run", and for a group its commands ("moa read")."""
    leaves: dict[str, click.Command] = {}
    for name, command in main.commands.items():
        if isinstance(command, click.Group):
            leaves |= {f"{name} {sub}": subcommand for sub, subcommand in command.commands.items()}
        else:
            leaves[name] = command
    return leaves


def shown_commands(readme: str) -> list[list[str]]:
    """The README's command lines: inline code that starts with `watch287g ` (or a path to it), and each
    command of a fenced block's lines (split at `&&`, `;` and `|`), as words."""
    fenced = re.findall(r"^```[^\n]*\n(.*?)^```", readme, re.MULTILINE | re.DOTALL)
    inline = re.findall(r"`([^`\n]+)`", re.sub(r"^```.*?^```", "", readme, flags=re.MULTILINE | re.DOTALL))
    lines = [
        part for block in fenced for line in block.splitlines() for part in re.split(r"&&|;|\s\|\s", line)
    ]
    shown = []
    for text in [*inline, *lines]:
        words = text.replace("\\|", "|").split()
        if words and re.fullmatch(r"(\S*/)?watch287g", words[0]):
            shown.append(words)
    return shown


def unknown_commands(readme: str) -> list[str]:
    """Commands and options shown that the command line does not have."""
    wrong = []
    for words in shown_commands(readme):
        name = words[1] if len(words) > 1 else ""
        command = main.commands.get(name)
        if isinstance(command, click.Group) and len(words) > 2 and words[2] in command.commands:
            command, name, words = command.commands[words[2]], f"{name} {words[2]}", words[1:]
        if command is None:
            wrong.append(" ".join(words))
            continue
        valid = GLOBAL_OPTIONS | {opt for opts in _options(command) for opt in opts}
        options = [w.strip("[]") for w in words[2:] if w.strip("[]").startswith("-") and w.strip("[]") != "-"]
        wrong += [f"{name} {option}" for option in options if option.split("=")[0] not in valid]
    return wrong


CHECKS: dict[str, Callable[[str], list[str]]] = {
    "kinds": missing_kinds,
    "config keys": missing_config_keys,
    "event types": missing_event_types,
    "commands": missing_commands,
    "commands shown": unknown_commands,
}


@pytest.mark.parametrize("check", CHECKS)
def test_the_readme_documents_the_code(check: str) -> None:
    assert CHECKS[check](README) == []


def test_what_is_checked_is_really_there() -> None:
    assert {"ice_287g", "openstates", "legiscan", "bill_page", "webpage"} <= set(MONITORS)
    assert {"agreement.added", "bill.enacted", "policy.compliance", "source.stale"} <= set(EVENT_TYPES)
    assert len(EVENT_TYPES) >= 20 and len(main.commands) >= 15
    assert any(words[:2] == [".venv/bin/watch287g", "run"] for words in shown_commands(README))
    assert ["watch287g", "backfill", "corpus.csv"] in shown_commands(README)


@pytest.mark.parametrize(
    ("check", "find", "put", "complaint"),
    [
        ("kinds", "| `webpage` |", "| `web_page` |", "kind webpage"),
        ("kinds", "`selectors`, `state`, `session`,", "`selectors`, `state`,", "bill_page: key session"),
        ("config keys", "`no_new_list_days`, ", "", "`operators`: no_new_list_days"),
        ("event types", "| `source.failed`, `source.recovered`, `source.stale` |", "| `source.failed` |",
         "source.recovered"),
        ("commands", "| `watch287g serve ", "| `watch287g served ", "command serve"),
        ("commands", "[--since DATE] [--baseline] [--url URL]", "[--since DATE] [--url URL]", "feed --baseline"),
        ("commands shown", "`watch287g backfill corpus.csv`", "`watch287g back-fill corpus.csv`",
         "watch287g back-fill corpus.csv"),
        ("commands shown", ".venv/bin/watch287g run\n", ".venv/bin/watch287g run --fast\n", "run --fast"),
    ],
)  # fmt: skip
def test_each_check_notices_what_is_taken_out(check: str, find: str, put: str, complaint: str) -> None:
    assert find in README
    assert complaint in CHECKS[check](README.replace(find, put))


def test_a_command_line_in_a_block_is_checked_word_by_word() -> None:
    block = "```sh\nwatch287g run --no-prefect && watch287g states --as-of 2026-01-01 | less\n```\n"
    assert unknown_commands(block) == []
    assert unknown_commands(block.replace("--as-of", "--at")) == ["states --at"]
    assert unknown_commands("`watch287g.yaml` and `watch287g/data/state_policy.csv`") == []
