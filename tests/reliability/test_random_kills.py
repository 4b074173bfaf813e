"""Random kill points (docs/reliability.md): the real CLI (`watch287g run --no-prefect`, a separate process)
killed by SIGKILL at random moments while it checks a loopback ICE site replaying real lists,

    07-07 (baseline, one database copied for every trial) · 07-08 · 07-14 · 07-15

with a subscriber on the real SMTP server of tests/support. At each step a trial draws 0-2 kills; each is
either a random delay after the run's first request (within the duration of the previous uninterrupted
run, as measured) or a random named crash point of state/faults.py at its 1st-3rd passage
(`WATCH287G_CRASH_AT=<point>:<n>`). A killed run is run again until one finishes; then the site moves on.
The trials advance in lock step with an uninterrupted reference and are compared with it: the same events
(type, record, details), the same records, versions and agreements in force, every delivery sent, each
message received once, or twice when the kill fell between the SMTP server's 250 and the receipt's commit
(the documented at-least-once window; told by the receipts, never assumed).

Seeded (WATCH287G_CHAOS_SEED reproduces a plan); where a timed kill lands also depends on the machine's
speed, so each kill says in the failure message what it hit (exit code, messages received, receipts).
"""

from __future__ import annotations

import json
import random
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from state.faults import POINTS
from state.store import Store
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
    CLI,
    P07,
    P08,
    P14,
    P15,
    Q07,
    Q08,
    Q15,
    Site,
    cli_env,
    copy_database,
    untimed,
    write_config,
)
from tests.support.httpserver import LoopbackHTTPServer
from tests.support.smtpserver import LoopbackSMTPServer, parts

BASE_SEED = seed(287)
TRIALS = 4
STEPS = [(P08, Q08), (P14, Q08), (P15, Q15)]
MAX_RUNS_PER_STEP = 3  # at most two kills, then a run that is left alone
TIMEOUT = 120  # seconds, per process: only a hung run would reach it


@dataclass
class Kill:
    """One drawn kill: `delay` seconds after the run's first request, or at a crash point's n-th passage."""

    delay: float | None = None
    point: str | None = None
    passage: int = 1

    def __str__(self) -> str:
        return f"{self.point}:{self.passage}" if self.point else f"+{self.delay:.2f}s"


@dataclass
class Trial:
    name: str
    directory: Path
    rng: random.Random
    log: list[str] = field(default_factory=list)  # what each run did, for failure messages
    extra_messages: int = 0  # messages received twice because a kill fell in the after_send window

    @property
    def config(self) -> Path:
        return self.directory / "watch287g.yaml"

    @property
    def database(self) -> Path:
        return self.directory / "w.db"

    @property
    def mailbox(self) -> str:
        return f"{self.name}@example.org"


def draw_kills(rng: random.Random, duration: float) -> list[Kill]:
    kills = []
    for _ in range(rng.choices((0, 1, 2), weights=(2, 5, 3))[0]):
        if rng.random() < 0.5:
            kills.append(Kill(delay=rng.uniform(0, duration)))
        else:
            kills.append(Kill(point=rng.choice(POINTS), passage=rng.randint(1, 3)))
    return kills


@pytest.fixture(scope="module")
def smtp() -> Iterator[LoopbackSMTPServer]:
    server = LoopbackSMTPServer().start()
    try:
        yield server
    finally:
        server.stop()


def mail_for(server: LoopbackSMTPServer, address: str) -> list[str]:
    """The messages received for `address` (subject and text), with run-specific times and numbers masked."""
    texts = []
    for received in server.received:
        if address in received.rcpt_tos:
            text = f"{received.message['subject']}\n{parts(received.message).get('text/plain', '')}"
            texts.append(re.sub(r"snapshot #\d+", "snapshot #N", untimed(text)))
    return texts


class Runner:
    """Runs `run --no-prefect` for several trials at once, each killed as its plan says and run again until
    a run finishes (each trial on its own: a step takes as long as the longest chain of runs)."""

    def __init__(self, site: Site, smtp: LoopbackSMTPServer) -> None:
        self.site, self.smtp = site, smtp

    def step(self, plans: dict[str, tuple[Trial, list[Kill]]]) -> dict[str, float]:
        """Each trial's runs until one finishes; returns the seconds of each trial's last run."""
        last: dict[str, float] = {}
        errors: list[BaseException] = []

        def chain(trial: Trial, kills: list[Kill]) -> None:
            try:
                for attempt in range(MAX_RUNS_PER_STEP):
                    kill = kills[attempt] if attempt < len(kills) else None
                    code, last[trial.name] = self.once(trial, kill)
                    record(trial, kill, code, self.smtp)
                    if code == 0:
                        return
                raise AssertionError(f"no run finished: {why(trial)}")
            except BaseException as exc:  # re-raised in the test's thread
                errors.append(exc)

        threads = [threading.Thread(target=chain, args=plan) for plan in plans.values()]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]
        return last

    def first_requests(self, trial: Trial) -> int:
        page = self.site.server.requests_for(self.site.page_path)
        return sum(1 for r in page if r.path.endswith(f"trial={trial.name}"))

    def once(self, trial: Trial, kill: Kill | None) -> tuple[int, float]:
        """One run: (exit code, seconds from its first request to its end)."""
        env = {"WATCH287G_CRASH_AT": f"{kill.point}:{kill.passage}"} if kill and kill.point else None
        seen = self.first_requests(trial)
        command = [CLI, "--config", str(trial.config), "run", "--no-prefect"]
        process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=cli_env(env)
        )
        deadline = time.monotonic() + TIMEOUT
        while self.first_requests(trial) == seen and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        started = time.monotonic()
        if kill and kill.delay is not None:
            try:
                process.wait(timeout=kill.delay)
            except subprocess.TimeoutExpired:
                process.kill()  # SIGKILL
        _out, err = process.communicate(timeout=TIMEOUT)
        assert process.returncode in (0, -9), (
            f"{trial.name}: exit {process.returncode}: {err.decode()[-2000:]}"
        )
        return process.returncode, time.monotonic() - started


def settle(trial: Trial, smtp: LoopbackSMTPServer) -> tuple[int, int]:
    """(messages received, receipts) once the SMTP server has finished with what the killed run sent: the
    count of received messages has not moved for 0.3 s (a few seconds at most on a loaded machine)."""
    received = -1
    for _ in range(10):
        now = len(mail_for(smtp, trial.mailbox))
        if now == received:
            break
        received = now
        time.sleep(0.3)
    return received, outbox(trial.database, "desk")["receipts"]


def integrity(database: Path) -> str:
    store = Store(database)
    try:
        return str(store.db.execute("pragma integrity_check").fetchone()[0])
    finally:
        store.close()


@pytest.fixture(scope="module")
def trials(
    loopback: LoopbackHTTPServer, smtp: LoopbackSMTPServer, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Trial]:
    site = Site(loopback, prefix="/kills")
    runner = Runner(site, smtp)
    names = ["baseline", "reference", *(f"trial{i}" for i in range(TRIALS))]
    everyone = {
        name: Trial(name, tmp_path_factory.mktemp(f"kills-{name}"), rng_for("random_kills", BASE_SEED, i))
        for i, name in enumerate(names)
    }

    def configure(trial: Trial) -> None:
        subscriber = f'  - name: desk\n    notify: ["{smtp.url_for_apprise(to=trial.mailbox)}"]\n'
        # The page URL names the trial (the server ignores the query): its first request marks the run's start.
        page = f"{site.page_url}?trial={trial.name}"
        write_config(trial.directory, page, port=loopback.port, timeout=10, subscribers=subscriber)

    site.show(P07, Q07)
    baseline = everyone.pop("baseline")
    configure(baseline)
    duration = runner.step({"baseline": (baseline, [])})["baseline"]
    for trial in everyone.values():
        copy_database(baseline.directory, trial.directory)
        configure(trial)

    # Kill delays are drawn within the duration of the previous uninterrupted run (the baseline's for the
    # first step): the reference runs each step alongside the trials.
    reference = everyone.pop("reference")
    for participating, pending in STEPS:
        site.show(participating, pending)
        plans = {t.name: (t, draw_kills(t.rng, duration)) for t in everyone.values()}
        duration = runner.step({"reference": (reference, []), **plans})["reference"]
    return {"reference": reference, **everyone}


def record(trial: Trial, kill: Kill | None, code: int, smtp: LoopbackSMTPServer) -> None:
    """Log one run; after a kill, check what it left and count a message sent without its receipt."""
    if code == 0:
        trial.log.append(f"done ({kill} not reached)" if kill else "done")
        return
    assert kill is not None and code == -9, why(trial)
    received, receipts = settle(trial, smtp)
    unreceipted = received - receipts - trial.extra_messages
    trial.log.append(f"killed at {kill}: {received} received, {receipts} receipts")
    assert integrity(trial.database) == "ok", why(trial)
    # At most the one message in flight; by a named point only after_send leaves one.
    assert unreceipted in (0, 1), why(trial)
    if kill.point:
        assert unreceipted == (1 if kill.point == "after_send" else 0), why(trial)
    trial.extra_messages += unreceipted


def anonymous(state: dict[str, Any]) -> dict[str, Any]:
    """The state without the trial's name (in the page URL's query)."""
    return json.loads(re.sub(r"\?trial=\w+", "?trial=T", json.dumps(state)))


def why(trial: Trial) -> str:
    return f"{reproduce('random_kills', BASE_SEED)}; {trial.name}: " + " · ".join(trial.log)


def test_the_reference_ran_uninterrupted_and_alerted_once_per_step(
    trials: dict[str, Trial], smtp: LoopbackSMTPServer
) -> None:
    reference = trials["reference"]
    assert reference.log == ["done"] * len(STEPS)
    assert len(mail_for(smtp, reference.mailbox)) == len(STEPS)
    assert outbox(reference.database, "desk")["receipts"] == len(STEPS)


def test_the_trials_were_really_killed(trials: dict[str, Trial]) -> None:
    kills = [entry for t in trials.values() for entry in t.log if entry.startswith("killed")]
    assert len(kills) >= TRIALS, [why(t) for t in trials.values()]  # several kills per test run


@pytest.mark.parametrize("trial", [f"trial{i}" for i in range(TRIALS)])
def test_a_run_killed_at_random_moments_ends_as_the_uninterrupted_run(
    trial: str, trials: dict[str, Trial], smtp: LoopbackSMTPServer
) -> None:
    mine, reference = trials[trial], trials["reference"]
    assert all(entry.startswith(("done", "killed")) for entry in mine.log), why(mine)

    # The same events (type, record, details), the same state: nothing lost, nothing doubled.
    assert subscriber_events(mine.database) == subscriber_events(reference.database), why(mine)
    ours, theirs = anonymous(final_state(mine.database)), anonymous(final_state(reference.database))
    for key in theirs:
        assert ours[key] == theirs[key], f"{key} differs; {why(mine)}"
    assert outbox(mine.database, "desk") == outbox(reference.database, "desk"), why(mine)
    assert set(outbox(mine.database, "desk")["deliveries"]) == {"sent"}, why(mine)
    assert operator_events(mine.database) == [], why(mine)  # a kill is no source failure

    # Each message received once, plus one repeat per kill that fell in the after_send window.
    received, expected = mail_for(smtp, mine.mailbox), mail_for(smtp, reference.mailbox)
    assert len(received) == len(expected) + mine.extra_messages, why(mine)
    assert list(dict.fromkeys(received)) == expected, why(mine)
