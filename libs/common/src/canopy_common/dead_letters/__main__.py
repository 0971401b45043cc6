"""``python -m canopy_common.dead_letters list|show|replay``: the operator's DLQ command.

Broker and topic names come from the ``CANOPY_KAFKA_*`` settings, as for the services.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from contextlib import aclosing
from datetime import datetime, timedelta

import orjson
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from canopy_common.dead_letters.letters import DeadLetter, Filters, LetterId, read_dead_letters
from canopy_common.dead_letters.replay import replay
from canopy_common.kafka_producer import Producer
from canopy_common.logging import configure_logging
from canopy_common.settings import KafkaSettings, ServiceSettings

# A listing shows this much of an error message; `show` prints all of it.
MESSAGE_COLUMN_CHARS = 80


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; the exit status (0 done, 1 some replay or its audit failed, 2 bad
    arguments)."""
    args = _parser().parse_args(argv)
    try:
        filters = _filters(args)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    logs = ServiceSettings()  # CANOPY_LOG_LEVEL, CANOPY_LOG_JSON, as for the services
    configure_logging(logs.log_level, json=logs.log_json, service="dead-letters", stream="stderr")
    return asyncio.run(_run(args, filters, KafkaSettings()))


async def _run(args: argparse.Namespace, filters: Filters, settings: KafkaSettings) -> int:
    out = Console(stderr=False, soft_wrap=args.json)
    letters = await _select(settings, filters, limit=args.limit)
    if args.command == "list":
        _print_list(out, letters, as_json=args.json)
        return 0
    if args.command == "show":
        if not letters:
            print(f"error: no dead letter at {', '.join(args.letters)}", file=sys.stderr)
            return 1
        for letter in letters:
            _print_letter(out, letter, as_json=args.json)
        return 0
    if not letters:
        out.print("nothing to replay")
        return 0
    if args.dry_run:
        _print_list(out, letters, as_json=args.json)
        return 0
    return await _replay(settings, letters, filters, out)


async def _select(
    settings: KafkaSettings, filters: Filters, *, limit: int | None
) -> list[DeadLetter]:
    found: list[DeadLetter] = []
    async with aclosing(read_dead_letters(settings, filters)) as letters:
        async for letter in letters:
            found.append(letter)
            if limit is not None and len(found) >= limit:
                break
    return found


async def _replay(
    settings: KafkaSettings, letters: list[DeadLetter], filters: Filters, out: Console
) -> int:
    producer = Producer(settings, client_id=f"{settings.client_id}-dead-letters-replay")
    async with producer:
        with Progress(
            TextColumn("replaying"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
        ) as progress:
            task = progress.add_task("replay", total=len(letters))
            report = await replay(
                producer,
                letters,
                filters,
                audit_topic=settings.topic_audit,
                on_each=lambda _: progress.advance(task),
            )
    out.print(f"replayed {len(report.replayed)} of {len(letters)} dead letters")
    for letter, error in report.failed:
        out.print(f"[red]not replayed[/red] {letter}: {error}")
    if report.unaudited is not None:
        out.print(f"[red]not recorded in the audit log[/red]: {report.unaudited}")
    return 1 if report.failed or report.unaudited is not None else 0


def _print_list(out: Console, letters: Sequence[DeadLetter], *, as_json: bool) -> None:
    if as_json:
        for letter in letters:
            out.print_json(orjson.dumps(_summary(letter)).decode(), indent=None)
        return
    table = Table("letter", "dead-lettered at", "from", "group", "error", "message")
    for letter in letters:
        why = letter.why
        at = letter.dead_lettered_at
        table.add_row(
            str(letter.id),
            at.isoformat(timespec="seconds") if at else "",
            f"{why.original_topic}:{why.original_partition}:{why.original_offset}",
            why.group,
            why.error_class.rsplit(".", 1)[-1],
            why.error_message[:MESSAGE_COLUMN_CHARS],
        )
    out.print(table)
    out.print(f"{len(letters)} dead letters")


def _print_letter(out: Console, letter: DeadLetter, *, as_json: bool) -> None:
    body = _summary(letter) | {
        "headers": {name: value.decode("utf-8", "replace") for name, value in letter.headers},
        "value": _value_text(letter.value),
    }
    if as_json:
        out.print_json(orjson.dumps(body).decode(), indent=None)
    else:
        out.print_json(orjson.dumps(body).decode())


def _summary(letter: DeadLetter) -> dict[str, object]:
    why, at = letter.why, letter.dead_lettered_at
    return {
        "letter": str(letter.id),
        "dead_lettered_at": at.isoformat() if at else None,
        "topic": why.original_topic,
        "partition": why.original_partition,
        "offset": why.original_offset,
        "group": why.group,
        "error_class": why.error_class,
        "error_message": why.error_message,
        "key": letter.key.decode("utf-8", "replace") if letter.key is not None else None,
        "value_bytes": len(letter.value) if letter.value is not None else None,
    }


def _value_text(value: bytes | None) -> object:
    """The value as JSON when it is JSON, else as text (what a person can read of it)."""
    if value is None:
        return None
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        return value.decode("utf-8", "replace")


def _time(text: str) -> datetime:
    """An ISO 8601 time with its timezone, or an age such as ``90m``, ``2h``, ``7d``."""
    units = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
    if text[-1:] in units and text[:-1].isdigit():
        return datetime.now().astimezone() - timedelta(**{units[text[-1]]: int(text[:-1])})
    at = datetime.fromisoformat(text)
    if at.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} must say its timezone (e.g. Z or +01:00)")
    return at


def _filters(args: argparse.Namespace) -> Filters:
    ids = frozenset(LetterId.parse(text) for text in getattr(args, "letters", None) or ())
    filters = Filters(
        topic=args.topic,
        group=args.group,
        error_class=args.error_class,
        since=args.since,
        until=args.until,
        ids=ids,
    )
    if args.command == "replay" and not (filters.describe() or args.all):
        raise ValueError("replay needs a filter, letters, or --all")
    return filters


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m canopy_common.dead_letters",
        description="List, inspect and replay the records of the DLQ (CANOPY_KAFKA_TOPIC_DLQ).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    shown = commands.add_parser("list", help="list dead letters, oldest first per partition")
    show = commands.add_parser("show", help="print dead letters whole: headers, key, value")
    show.add_argument("letters", nargs="+", metavar="PARTITION:OFFSET")
    again = commands.add_parser(
        "replay", help="publish dead letters again to their original topic and partition"
    )
    again.add_argument("letters", nargs="*", metavar="PARTITION:OFFSET")
    again.add_argument("--all", action="store_true", help="replay every letter (no filter)")
    again.add_argument("--dry-run", action="store_true", help="list what would be replayed")
    for command in (shown, show, again):
        command.add_argument("--topic", help="original topic, e.g. canopy.activities.v1")
        command.add_argument("--group", help="consumer group that refused it")
        command.add_argument("--error-class", help="e.g. InvalidActivity (or its full name)")
        command.add_argument("--since", type=_time, help="ISO 8601 with timezone, or 2h, 7d")
        command.add_argument("--until", type=_time, help="ISO 8601 with timezone, or 2h, 7d")
        command.add_argument("--limit", type=int, help="at most this many letters")
        command.add_argument("--json", action="store_true", help="one JSON object per line")
    return parser


if __name__ == "__main__":
    raise SystemExit(main())
