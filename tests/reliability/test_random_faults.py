"""A randomised fault schedule (docs/reliability.md): real ICE lists replayed on a loopback site, one list
changing at a time,

    07-07 (baseline) · P08 · Q08 · P14 · P15 · Q15   (P = participating list, Q = pending list)

each state checked 2-4 times with `run_once` (no Prefect, no retries) on a controlled clock. Before each check
a fault is drawn with some probability from the 23 kinds of test_faults.py (a failing streak often goes on:
several faults in a row), except at a state's last check, which is clean, and the schedule ends with two
clean checks. Several schedules per run, seeded (WATCH287G_CHAOS_SEED reproduces one).

Compared with the same lists checked without faults (the reference): subscribers get no event the reference
does not have and miss none, each message once; the final state is the reference's; operators hear once per
failure streak (at its second failed check) and once when it ends, once per quarantined list.

Why a state's last check is clean: a change hidden by faults is then detected before the next one, in the
reference's order. Two changes detected in one check are interpreted participating first, whatever order ICE
published them in; that is a choice of the check, not a fault.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.reliability import test_faults as known
from tests.reliability.chaos import (
    final_state,
    operator_events,
    outbox,
    reproduce,
    rng_for,
    seed,
    subscriber_events,
)
from tests.reliability.conftest import (
    P07,
    P08,
    P14,
    P15,
    Q07,
    Q08,
    Q15,
    Site,
    clocked,
    copy_database,
    posted,
    untimed,
    write_config,
)
from tests.support.httpserver import LoopbackHTTPServer
from tests.support.ice_site import real_list
from watch287g.check_loop import plain_fetch
from watch287g.run import run_once

DEFAULT_SEED = 128  # its schedules cover every situation listed in `situations`
BASE_SEED = seed(DEFAULT_SEED)
SCHEDULES = 3
STATES = [(P08, Q07), (P08, Q08), (P14, Q08), (P15, Q08), (P15, Q15)]  # one list changes at a time
START = datetime.fromisoformat("2025-07-08T00:00:00+00:00")  # checks every hour from here
FAULT_CHANCE = 0.45  # a fault before a check...
STREAK_CHANCE = 0.5  # ...and after a fault, the same fault again


@dataclass(frozen=True)
class Kind:
    name: str
    expect: str  # "failed" or "quarantined" (test_faults.py's meaning)
    inject: Callable[[Site, str, str], None]  # (site, participating, pending): serve the state, faulty


def _on(target: str, kind: str, **options: Any) -> Callable[[Site, str, str], None]:
    def inject(site: Site, participating: str, pending: str) -> None:
        site.show(participating, pending)
        path = site.page_path if target == "page" else site.list_path(participating)
        site.server.fault(path, kind, **options)

    return inject


def _serving(make: Callable[[], bytes], link: str = "participating") -> Callable[[Site, str, str], None]:
    def inject(site: Site, participating: str, pending: str) -> None:
        stem = participating if link == "participating" else pending
        site.show(participating, pending, bodies={stem: make()})

    return inject


def _links_gone(site: Site, participating: str, pending: str) -> None:
    site.show(participating, pending, anchors=False)


BY_NAME: dict[str, Callable[[Site, str, str], None]] = {
    "timeout_page": _on("page", "delay", seconds=2.0),
    "timeout_list": _on("list", "delay", seconds=2.0),
    "reset_page": _on("page", "reset"),
    "reset_list_mid_body": _on("list", "reset", after_headers=True),
    "http_500_page": _on("page", "status", code=500),
    "http_503_list": _on("list", "status", code=503, headers={"Retry-After": "120"}),
    "http_403_page": _on("page", "status", code=403),
    "http_403_list": _on("list", "status", code=403),
    "redirect_loop_page": _on("page", "redirect_loop"),
    "huge_list": _on("list", "huge", size=5 * known.MAX_BYTES),
    "huge_list_chunked": _on("list", "huge", size=5 * known.MAX_BYTES, content_length=False),
    "links_gone": _links_gone,
    "html_error_page_as_list": _on("list", "html_error"),
    "truncated_xlsx": _serving(known.truncated),
    "corrupt_xlsx": _serving(known.corrupt),
    "zip_bomb": _serving(known.zip_bomb),
    "header_only": _serving(known.header_only),
    "mass_removal": _serving(known.half_the_rows),
    "pending_behind_participating_link": _serving(lambda: real_list(Q08)),
    "participating_behind_pending_link": _serving(lambda: real_list(P08), link="pending"),
    "column_renamed_support_type": _serving(known.support_type_renamed),
    "column_renamed_signed": _serving(known.signed_renamed),
    "column_missing_agency": _serving(known.agency_column_missing),
}
KINDS = [Kind(f.name, f.expect, BY_NAME[f.name]) for f in known.FAULTS]  # the same 23 kinds, same outcomes


@dataclass(frozen=True)
class Step:
    at: str
    state: tuple[str, str]
    fault: Kind | None

    @property
    def channel(self) -> str:
        """The list a quarantine fault serves bad bytes on."""
        assert self.fault is not None
        return "pending" if self.fault.name == "participating_behind_pending_link" else "participating"


def draw_schedule(rng: random.Random) -> list[Step]:
    checks: list[Step] = []
    plan = [(state, rng.randint(2, 4)) for state in STATES] + [(STATES[-1], 2)]
    previous: Kind | None = None
    for index, (state, count) in enumerate(plan):
        for n in range(count):
            last = n == count - 1 or index == len(plan) - 1
            fault = None
            if not last and previous and rng.random() < STREAK_CHANCE:
                fault = previous
            elif not last and rng.random() < FAULT_CHANCE:
                fault = rng.choice(KINDS)
            checks.append(Step((START + timedelta(hours=len(checks))).isoformat(), state, fault))
            previous = fault
    return checks


def describe(schedule: list[Step]) -> str:
    """E.g. "P0708/Q0707 ok · P0708/Q0707 reset_page": what each check saw."""
    return " · ".join(
        f"P{c.state[0][-10:-6]}/Q{c.state[1][-10:-6]} {c.fault.name if c.fault else 'ok'}" for c in schedule
    )


@dataclass
class Expected:
    """What operators must hear, from the schedule alone."""

    failed: list[str]  # check times of source.failed
    recovered: list[str]
    quarantined: list[tuple[str, str]]  # (check time, channel) of each bad list served after a good one


def expected_for(schedule: list[Step]) -> Expected:
    expected = Expected([], [], [])
    streak, alerted = 0, False
    current = {"participating": P07, "pending": Q07}  # the last list served on each channel, good or bad
    for step in schedule:
        if step.fault and step.fault.expect == "failed":  # the check stops before any list is interpreted
            streak += 1
            if streak >= 2 and not alerted:
                expected.failed.append(step.at)
                alerted = True
            continue
        if alerted:
            expected.recovered.append(step.at)
        streak, alerted = 0, False
        for index, channel in enumerate(("participating", "pending")):
            if step.fault and step.channel == channel:
                bad = step.fault.name
                if bad != current[channel]:
                    expected.quarantined.append((step.at, channel))
                current[channel] = bad
            else:
                current[channel] = step.state[index]
    return expected


def run_schedule(server: LoopbackHTTPServer, baseline: Path, directory: Path, schedule: list[Step]) -> Path:
    copy_database(baseline, directory)
    server.clear_requests()
    config = clocked(directory / "watch287g.yaml")
    site = Site(server)
    for check in schedule:
        if check.fault:
            check.fault.inject(site, *check.state)
        else:
            site.show(*check.state)
        config.clock = check.at
        result = run_once(config, fetch_for=plain_fetch)
        failed = bool(check.fault and check.fault.expect == "failed")
        assert bool(result.checks[0].error) == failed, (check, result.checks[0].error)
    return config.database


@pytest.fixture(scope="module")
def baseline(loopback: LoopbackHTTPServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("random-faults-baseline")
    site = Site(loopback)
    config = clocked(
        write_config(
            directory, site.page_url, port=loopback.port, timeout=known.TIMEOUT, max_bytes=known.MAX_BYTES
        )
    )
    site.show(P07, Q07)
    config.clock = "2025-07-07T21:00:00+00:00"
    assert not run_once(config, fetch_for=plain_fetch).failures
    return directory


@pytest.fixture(scope="module")
def reference(loopback: LoopbackHTTPServer, baseline: Path, tmp_path_factory: pytest.TempPathFactory):
    """Each state checked once, never a fault."""
    schedule = [Step((START + timedelta(hours=i)).isoformat(), state, None) for i, state in enumerate(STATES)]
    database = run_schedule(loopback, baseline, tmp_path_factory.mktemp("random-faults-reference"), schedule)
    return database, posted(loopback, "/sub")


def messages(posts: list[dict[str, Any]]) -> list[str]:
    return [untimed(p["title"] + "\n" + p["message"]) for p in posts]


@pytest.mark.parametrize("trial", range(SCHEDULES))
def test_a_random_fault_schedule_changes_nothing_subscribers_see_and_operators_hear_each_streak_once(
    trial: int, loopback: LoopbackHTTPServer, baseline: Path, reference: tuple[Path, Any], tmp_path: Path
) -> None:
    rng = rng_for("random_faults", BASE_SEED, trial)
    schedule = draw_schedule(rng)
    why = f"{reproduce('random_faults', BASE_SEED)}, schedule {trial}: {describe(schedule)}"
    database = run_schedule(loopback, baseline, tmp_path, schedule)
    subscriber_posts, operator_posts = posted(loopback, "/sub"), posted(loopback, "/ops")
    ref_database, ref_posts = reference

    # Subscribers: exactly the reference's events (none false, none missing), each message once.
    assert subscriber_events(database) == subscriber_events(ref_database), why
    assert messages(subscriber_posts) == messages(ref_posts), why
    assert outbox(database, "sub") == outbox(ref_database, "sub"), why
    assert set(outbox(database, "sub")["deliveries"]) == {"sent"}, why

    # The state afterwards is the reference's.
    mine, ref = final_state(database), final_state(ref_database)
    for key in ref:
        assert mine[key] == ref[key], f"{key} differs; {why}"

    # Operators: once per failure streak, once when it ends, once per new bad list.
    expected = expected_for(schedule)
    heard = operator_events(database)
    by_type = {
        t: [e["detected_at"] for e in heard if e["type"] == t] for t in ("source.failed", "source.recovered")
    }
    assert by_type["source.failed"] == expected.failed, why
    assert by_type["source.recovered"] == expected.recovered, why
    quarantined = [(e["detected_at"], e["details"]["list"]) for e in heard if e["type"] == "list.quarantined"]
    assert len(heard) == len(expected.failed) + len(expected.recovered) + len(quarantined), why
    # Every operator event sent once (a recovery and a quarantine found by one check share a message).
    assert sum(int(p["message"].split(" ", 1)[0]) for p in operator_posts) == len(heard), why
    assert set(outbox(database, "operators")["deliveries"]) <= {"sent"}, why
    # Once per bad list served after a good one (the same bad bytes again after the good list came back
    # included: the bug of the test below).
    assert quarantined == expected.quarantined, why


def situations(schedule: list[Step]) -> set[str]:
    """The situations a schedule puts the check in (for the coverage test below)."""
    found, streak = set(), 0
    for previous, step in zip([None, *schedule], schedule, strict=False):
        if step.fault and previous and step.state != previous.state or step.fault and previous is None:
            found.add("a list change hidden by a fault")
        if step.fault and step.fault.expect == "failed":
            streak += 1
            continue
        found |= {"a single failure"} if streak == 1 else {"a streak of 3 or more"} if streak >= 3 else set()
        if streak >= 2 and step.fault:
            found.add("a recovery and a quarantine in one check")
        if step.fault:
            found.add(f"a quarantined {step.channel} list")
            found |= (
                {"the same bad list twice in a row"} if previous and previous.fault == step.fault else set()
            )
        streak = 0
    return found


def test_the_default_schedules_cover_streaks_recoveries_quarantines_and_hidden_changes() -> None:
    """The schedules must be able to catch a repeated alert or a missed recovery: with the default seed they
    contain each of these situations (a seed given in the environment is not held to this)."""
    if BASE_SEED != DEFAULT_SEED:
        pytest.skip(f"coverage is checked for the default seed, not {BASE_SEED}")
    found = set().union(
        *(situations(draw_schedule(rng_for("random_faults", BASE_SEED, t))) for t in range(SCHEDULES))
    )
    assert found == {
        "a list change hidden by a fault", "a single failure", "a streak of 3 or more",
        "a recovery and a quarantine in one check", "a quarantined participating list", "a quarantined pending list",
        "the same bad list twice in a row",
    }  # fmt: skip


def test_the_same_bad_list_served_again_after_the_good_one_is_heard_again(
    loopback: LoopbackHTTPServer, baseline: Path, tmp_path: Path
) -> None:
    """Found by schedule 2 of seed 18: the good list served again after a quarantined one was `unchanged`
    and `channels.current_sha256` kept the quarantined bytes, so the same bad bytes served later were
    `unchanged` too and the operators heard nothing of the second bad episode. Now the channel's current
    list is the good one again (watch287g/pipeline.py process_list)."""
    bad = next(k for k in KINDS if k.name == "truncated_xlsx")
    times = [(START + timedelta(hours=i)).isoformat() for i in range(4)]
    schedule = [Step(times[0], STATES[0], None), Step(times[1], STATES[0], bad)]
    schedule += [Step(times[2], STATES[0], None), Step(times[3], STATES[0], bad)]
    database = run_schedule(loopback, baseline, tmp_path, schedule)
    heard = [(e["detected_at"], e["details"]["list"]) for e in operator_events(database)]
    assert heard == [(times[1], "participating"), (times[3], "participating")]
