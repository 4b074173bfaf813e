"""`watch287g import git`: a real git repository built here from real ICE lists, read by plain git."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitors.archive import git_history
from monitors.archive.git_history import GitError, git_bodies
from state import queries
from state.store import Store
from tests.support.httpserver import LoopbackHTTPServer
from tests.support.smtpserver import LoopbackSMTPServer
from tests.support.xlsx_edit import replace_text
from watch287g.cli import main
from watch287g.import_report import PressFigure, press_lines, summary_lines
from watch287g.importing import Imported, ImportSummary

ICE = Path(__file__).parent / "fixtures" / "ice"
P0331 = (ICE / "2025-03-31_participatingAgencies-20250331231039.xlsx").read_bytes()
P0529 = (ICE / "2025-05-29_participatingAgencies05292025am.xlsx").read_bytes()
Q0529 = (ICE / "2025-05-29_pendingAgencies05292025am.xlsx").read_bytes()
P0617 = (ICE / "2025-06-17_participatingAgencies06172025pm.xlsx").read_bytes()
# A real workbook whose columns are not a list's: a spreadsheet of something else committed alongside.
BUDGET = replace_text(replace_text(Q0529, "LAW ENFORCEMENT AGENCY", "BUDGET LINE"), "SUPPORT TYPE", "AMOUNT")
HTML = b"<!DOCTYPE html><html><body><h1>Page moved</h1></body></html>"


def git(repo: Path, *args: str, when: str = "2025-01-01T00:00:00+00:00") -> str:
    env = dict(os.environ, GIT_COMMITTER_DATE=when, GIT_AUTHOR_DATE=when)
    command = ["git", "-C", str(repo), "-c", "user.name=scraper", "-c", "user.email=s@example.org", *args]
    return subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout


def commit(repo: Path, when: str, files: dict[str, bytes], move: tuple[str, str] | None = None) -> str:
    for path, body in files.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_bytes(body)
    if move:
        (repo / move[1]).parent.mkdir(parents=True, exist_ok=True)
        git(repo, "mv", *move)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", f"scrape {when}", when=when)
    return git(repo, "rev-parse", "HEAD").strip()


@pytest.fixture
def scraped(tmp_path: Path) -> tuple[Path, list[str]]:
    """A scraping repository: lists overwritten in place, a renamed file, the same bytes at a second path,
    a spreadsheet that is not a list, an HTML page named .xlsx, and a last commit dated before the others."""
    repo = tmp_path / "scraper"
    repo.mkdir()
    git(repo, "init", "-q")
    commits = [
        commit(repo, "2025-05-29T15:00:00+00:00", {"lists/participatingAgencies.xlsx": P0529}),
        commit(repo, "2025-05-29T11:05:00-04:00", {"lists/pendingAgencies.xlsx": Q0529, "notes.txt": b"ok"}),
        commit(
            repo,
            "2025-06-17T21:00:00-04:00",
            {
                "lists/participatingAgencies.xlsx": P0617,
                "other/budget.xlsx": BUDGET,
                "lists/moved.xlsx": HTML,
            },
        ),
        commit(
            repo, "2025-06-20T12:00:00+00:00", {}, ("lists/pendingAgencies.xlsx", "archive/pending-0529.xlsx")
        ),
        commit(repo, "2025-06-21T12:00:00+00:00", {"archive/participating-0617.xlsx": P0617}),
        commit(repo, "2025-03-31T23:10:39+00:00", {"archive/participating-0331.xlsx": P0331}),  # added late
    ]
    return repo, commits


def test_every_version_of_every_spreadsheet_with_its_commit_time_in_utc(
    scraped: tuple[Path, list[str]],
) -> None:
    repo, commits = scraped
    bodies = list(git_bodies(str(repo)))
    assert [(b.fetched_at, b.provenance["commit"], b.provenance["path"]) for b in bodies] == [
        ("2025-05-29T15:00:00+00:00", commits[0], "lists/participatingAgencies.xlsx"),
        (
            "2025-05-29T15:05:00+00:00",
            commits[1],
            "lists/pendingAgencies.xlsx",
        ),  # notes.txt: not a spreadsheet
        ("2025-06-18T01:00:00+00:00", commits[2], "lists/moved.xlsx"),
        ("2025-06-18T01:00:00+00:00", commits[2], "lists/participatingAgencies.xlsx"),
        ("2025-06-18T01:00:00+00:00", commits[2], "other/budget.xlsx"),
        ("2025-06-20T12:00:00+00:00", commits[3], "archive/pending-0529.xlsx"),  # a rename is a new sighting
        ("2025-06-21T12:00:00+00:00", commits[4], "archive/participating-0617.xlsx"),
        ("2025-03-31T23:10:39+00:00", commits[5], "archive/participating-0331.xlsx"),
    ]
    assert [b.body for b in bodies] == [P0529, Q0529, HTML, P0617, BUDGET, Q0529, P0617, P0331]
    assert bodies[0].name == "participatingAgencies.xlsx"
    assert {b.provenance["repository"] for b in bodies} == {str(repo.resolve())}
    assert {b.provenance["archive"] for b in bodies} == {"git"}
    only = [b.provenance["path"] for b in git_bodies(str(repo), ["archive/*"])]
    assert only == [
        "archive/pending-0529.xlsx",
        "archive/participating-0617.xlsx",
        "archive/participating-0331.xlsx",
    ]


def test_known_sightings_are_not_read(
    scraped: tuple[Path, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, commits = scraped
    keys = [
        f"{repo.resolve()}@{b.provenance['commit']}:{b.provenance['path']}" for b in git_bodies(str(repo))
    ]
    calls: list[tuple[str, ...]] = []
    real_git = git_history._git

    def recorded(directory: Path | None, *arguments: str) -> bytes:
        calls.append(arguments)
        return real_git(directory, *arguments)

    monkeypatch.setattr(git_history, "_git", recorded)
    rest = list(git_bodies(str(repo), known=set(keys[:5]).__contains__))
    assert [b.provenance["commit"] for b in rest] == commits[3:]
    calls.clear()
    assert list(git_bodies(str(repo), known=lambda key: True)) == []
    assert not [c for c in calls if c[0] == "cat-file"]  # nothing known is read


def test_a_file_too_large_for_a_list_is_skipped_with_the_reason(
    scraped: tuple[Path, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, _ = scraped
    monkeypatch.setattr(git_history, "MAX_FILE_BYTES", len(HTML))
    skipped: list[tuple[str, str]] = []
    bodies = list(git_bodies(str(repo), skipped=lambda path, why: skipped.append((path, why))))
    assert [b.provenance["path"] for b in bodies] == ["lists/moved.xlsx"]
    assert len(skipped) == 7
    assert skipped[0] == (
        "lists/participatingAgencies.xlsx",
        f"too large for a list ({len(P0529):,} bytes; at most {len(HTML):,})",
    )


@pytest.mark.parametrize(
    "argument, said",
    [
        ("--upload-pack=touch pwned", "must not start with '-'"),
        ("-c", "must not start with '-'"),
        ("ext::sh -c touch% pwned", "only https://, http://, git://, ssh://"),
        ("fd::3", "only https://, http://, git://, ssh://"),
        ("file::/tmp", "only https://, http://, git://, ssh://"),
        ("file:///tmp/x", "only https://, http://, git://, ssh://"),
        ("no/such/folder", "no such directory"),
    ],
)
def test_hostile_or_unknown_repository_arguments_are_refused(
    tmp_path: Path, argument: str, said: str
) -> None:
    os.chdir(tmp_path)  # where `touch pwned` would write
    with pytest.raises(GitError, match=said):
        list(git_bodies(argument))
    code, out, err = cli(config(tmp_path), "import", "git", "--", argument)
    assert (code, out) == (1, "") and err.startswith("error: ") and said in err
    assert not (tmp_path / "pwned").exists() and not (tmp_path / "w.db").exists()


def test_a_folder_that_is_not_a_repository_is_one_line_with_gits_words(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    code, out, err = cli(config(tmp_path), "import", "git", str(tmp_path / "plain"))
    assert code == 1 and out == ""
    assert (
        err
        == f"error: {tmp_path / 'plain'}: fatal: not a git repository (or any of the parent directories): .git\n"
    )


def test_a_url_is_cloned_over_http_into_a_temporary_folder_then_removed(
    scraped: tuple[Path, list[str]],
    http_server: LoopbackHTTPServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    repo, commits = scraped
    served = tmp_path / "served.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(repo), str(served)], check=True)
    subprocess.run(["git", "-C", str(served), "update-server-info"], check=True)  # git's "dumb" HTTP
    for file in served.rglob("*"):
        if file.is_file():
            http_server.route(
                f"/served.git/{file.relative_to(served)}", file.read_bytes(), "application/octet-stream"
            )
    clones = tmp_path / "clones"
    clones.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(clones))
    url = http_server.url("/served.git")
    bodies = list(git_bodies(url))
    assert [(b.provenance["repository"], b.provenance["commit"]) for b in bodies][-1] == (url, commits[-1])
    assert [b.body for b in bodies] == [b.body for b in git_bodies(str(repo))]
    assert list(clones.iterdir()) == []
    with pytest.raises(GitError, match="unable to access") as refused:  # the server is gone: git's words
        http_server.stop()
        list(git_bodies(url))
    assert url in str(refused.value) and list(clones.iterdir()) == []


def config(tmp_path: Path, extra: str = "") -> str:
    path = tmp_path / "watch287g.yaml"
    path.write_text(
        "database: w.db\n"
        f"{extra}sources:\n  - name: ice-287g\n    kind: ice_287g\n    url: https://www.ice.gov/identify-and-arrest/287g\n"
    )
    return str(path)


def cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["--config", *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_import_git_interprets_each_sighting_in_time_order_never_alerted(
    scraped: tuple[Path, list[str]], smtp_server: LoopbackSMTPServer, tmp_path: Path
) -> None:
    repo, commits = scraped
    subscriber = f'subscribers:\n  - name: desk\n    notify: ["{smtp_server.url_for_apprise()}"]\n'
    settings = config(tmp_path, subscriber)
    code, out, err = cli(settings, "import", "git", str(repo))
    where = f"{repo.resolve()}"
    assert code == 0, err
    assert out.splitlines() == [
        "6 lists imported, 2 files skipped",
        "  2025 participating: 3 processed, 1 unchanged",  # 03-31 (committed last) first; 06-17 at a 2nd path
        "  2025 pending: 1 processed, 1 unchanged",  # 05-29, then the same bytes renamed
        *SKIPPED,
        "check against ICE's press figures:",
        "  2025-05-29 agreements: ICE 635 (ICE's 287(g) page, as of May 29, 2025), imported 635: matches",
        "  2025-05-29 pending: ICE 68 (ICE's 287(g) page, as of May 29, 2025), imported 68: matches",
    ]
    assert f"{where}: 8 file versions in 6 commits" in err and "read 8 files" in err
    assert "interpreted 6/6 lists (up to 2025-06-21)" in err
    store = Store(tmp_path / "w.db")
    try:
        events = queries.events(store)
        assert events and {e["origin"] for e in events} == {"import"}
        assert min(e["detected_at"] for e in events) == "2025-03-31T23:10:39+00:00"  # the late commit first
        assert {e["url"] for e in events if e["type"] == "pending.added"} == {
            f"{where}@{commits[1]}:lists/pendingAgencies.xlsx"
        }
    finally:
        store.close()
    assert cli(settings, "deliveries", "--json")[1:] == ("", "no deliveries match\n")
    code, again, err = cli(settings, "import", "git", str(repo))  # every sighting is known: none is read
    assert (code, again) == (0, "0 lists imported, 0 files skipped\n") and "read 0 files;" in err
    store = Store(tmp_path / "w.db")
    try:
        assert len(queries.events(store)) == len(events)
    finally:
        store.close()


SKIPPED = [
    "skipped (not one of ICE's lists, or unreadable):",
    "  moved.xlsx: not an ICE list: not an xlsx file: the body looks like HTML",
    "  budget.xlsx: not an ICE list: no header row with STATE and LAW ENFORCEMENT AGENCY"
    " (first row is ['STATE', 'BUDGET LINE', 'TYPE', 'COUNTY', 'AMOUNT'])",
]


def test_a_list_committed_later_but_dated_earlier_re_derives_and_the_summary_says_so(
    scraped: tuple[Path, list[str]], tmp_path: Path
) -> None:
    repo, _ = scraped
    settings = config(tmp_path)
    assert cli(settings, "import", "git", str(repo))[0] == 0
    p0328 = (ICE / "2025-03-28_participatingAgencies-20250328133437.xlsx").read_bytes()
    commit(repo, "2025-03-28T13:34:37+00:00", {"archive/participating-0328.xlsx": p0328})
    code, out, err = cli(settings, "import", "git", str(repo))
    assert code == 0, err
    assert "read 1 file;" in err
    assert out.splitlines()[:4] == [
        "7 lists imported, 0 files skipped",
        "  2025 participating: 4 processed, 1 unchanged",
        "  2025 pending: 1 processed, 1 unchanged",
        "re-derived: a list earlier than the history arrived, so the source's history (archives' lists only)"
        " was rebuilt in time order; the counts above are every list of the source",
    ]


def imported(day: str, channel: str, outcome: str = "processed") -> Imported:
    return Imported(f"{day}T15:00:00+00:00", channel, outcome, None, f"/r@c:{channel}.xlsx")


def test_the_press_check_says_the_difference_and_nothing_outside_the_lists_span() -> None:
    figures = (
        PressFigure("2025-05-29", "participating", 635, "ICE"),
        PressFigure("2025-05-29", "pending", 68, "ICE"),
    )
    spanning = [imported("2025-05-20", "participating"), imported("2025-06-02", "participating")]
    counts = {"participating": 630, "pending": 70}
    assert press_lines(spanning, lambda channel, day: counts[channel], figures) == [
        "check against ICE's press figures:",
        "  2025-05-29 agreements: ICE 635 (ICE), imported 630: differs by 5",
    ]
    before = [imported("2025-05-20", "participating"), imported("2025-05-28", "pending")]
    assert press_lines(before, lambda channel, day: counts[channel], figures) == []
    not_interpreted = [
        imported("2025-05-29", "pending", "quarantined"),
        imported("2025-05-29", "pending", "already_seen"),
    ]
    assert press_lines(not_interpreted, lambda channel, day: counts[channel], figures) == []


def test_the_summary_counts_per_year_and_list_and_says_why_for_the_rest() -> None:
    summary = ImportSummary(
        [
            imported("2024-12-30", "participating"),
            imported("2025-01-02", "participating", "unchanged"),
            Imported(
                "2025-01-03T00:00:00+00:00", "pending", "quarantined", "lost 90% of rows", "/r@q:p.xlsx"
            ),
            Imported(
                "2025-01-01T00:00:00+00:00", "pending", "already_seen", "fetched before X", "/r@l:p.xlsx"
            ),
        ],
        [("budget.xlsx", "not an ICE list: no STATE column")],
        refused_because=["demo", "live"],
    )
    assert summary_lines(summary, lambda channel, day: 0) == [
        "4 lists imported, 1 file skipped",
        "  2024 participating: 1 processed",
        "  2025 participating: 1 unchanged",
        "  2025 pending: 1 quarantined, 1 already seen",
        "not re-derived: lists earlier than the history stay already seen, because the source also holds what no"
        " archive gave (demo, live); import before the first `run`",
        "quarantined (not interpreted; the lists around them were):",
        "  2025-01-03T00:00:00+00:00 pending /r@q:p.xlsx: lost 90% of rows",
        "already seen (earlier than the list last interpreted on their channel; history only moves forward):",
        "  2025-01-01T00:00:00+00:00 pending /r@l:p.xlsx: fetched before X",
        "skipped (not one of ICE's lists, or unreadable):",
        "  budget.xlsx: not an ICE list: no STATE column",
    ]


def test_glob_and_source_options(scraped: tuple[Path, list[str]], tmp_path: Path) -> None:
    repo, _ = scraped
    settings = config(tmp_path)
    code, _, err = cli(settings, "import", "git", str(repo), "--source", "nope")
    assert code == 2 and err.startswith("error: ") and "ice-287g" in err  # the sources there are
    code, out, err = cli(settings, "import", "git", str(repo), "--glob", "archive/*", "--source", "ice-287g")
    assert code == 0, err
    assert out.splitlines()[:3] == [
        "3 lists imported, 0 files skipped",
        "  2025 participating: 2 processed",  # 03-31 and the 06-17 copy
        "  2025 pending: 1 processed",  # the renamed 05-29 list
    ]


def test_import_takes_the_run_lock_like_backfill(
    scraped: tuple[Path, list[str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from state.lock import run_lock
    from watch287g import cli_import

    repo, _ = scraped
    settings = config(tmp_path)
    monkeypatch.setattr(cli_import, "BACKFILL_WAIT_SECONDS", 0.3)
    with run_lock(tmp_path / "w.db"):  # a run at work
        code, out, err = cli(settings, "import", "git", str(repo))
    assert (code, out) == (1, "")
    assert err == (
        f"waiting: another watch287g run is using {tmp_path / 'w.db'}\n"
        f"error: another watch287g run is using {tmp_path / 'w.db'}; this one did nothing\n"
    )
    assert cli(settings, "import", "git", str(repo))[0] == 0  # the lock is free again


def test_names_state_ices_times_most_precise_first() -> None:
    from monitors.archive.file_names import time_in_name

    assert time_in_name("participatingAgencies-20250221214937.xlsx") == "2025-02-21T21:49:37+00:00"
    assert time_in_name("lists/participatingAgencies05292025am.xlsx") == "2025-05-29T12:00:00+00:00"
    assert time_in_name("2025-05-23_participatingAgencies05232025pm.xlsx") == "2025-05-23T20:00:00+00:00"
    assert time_in_name("2025-05-23_copy.xlsx") == "2025-05-23T12:00:00+00:00"
    assert time_in_name("participatingAgencies13452025am.xlsx") is None  # month 13
    assert time_in_name("participatingAgencies.xlsx") is None


def test_a_commit_of_several_dated_copies_of_one_list_orders_them_by_their_names(tmp_path: Path) -> None:
    repo = tmp_path / "dated"
    git(repo.parent, "init", "-q", str(repo))
    commit(repo, "2025-08-01T09:00:00+00:00", {
        "copies/participatingAgencies-20250331231039.xlsx": P0331,
        "copies/participatingAgencies05292025am.xlsx": P0529,
        "copies/participatingAgencies06172025pm.xlsx": P0617,
        "copies/participatingAgencies-latest.xlsx": P0617,  # no time in its name: its place is unknown
        "copies/pendingAgencies05292025am.xlsx": Q0529,  # the only pending list: the commit's time
    })  # fmt: skip
    refused: list[tuple[str, str]] = []
    bodies = list(git_bodies(str(repo), skipped=lambda path, why: refused.append((path, why))))
    assert sorted((b.fetched_at, b.name) for b in bodies) == [
        ("2025-03-31T23:10:39+00:00", "participatingAgencies-20250331231039.xlsx"),
        ("2025-05-29T12:00:00+00:00", "participatingAgencies05292025am.xlsx"),
        ("2025-06-17T20:00:00+00:00", "participatingAgencies06172025pm.xlsx"),
        ("2025-08-01T09:00:00+00:00", "pendingAgencies05292025am.xlsx"),
    ]
    assert [b.provenance.get("dated_by") for b in bodies if b.name.startswith("pending")] == [None]
    assert {b.provenance.get("dated_by") for b in bodies if b.name.startswith("part")} == {
        "file name (committed 2025-08-01T09:00:00+00:00)"
    }
    assert refused == [(
        "copies/participatingAgencies-latest.xlsx",
        "one of 4 participating lists in one commit, and its name states no time before the commit's "
        "(2025-08-01T09:00:00+00:00): its place in time is unknown",
    )]  # fmt: skip


def test_names_from_an_archive_cannot_forge_summary_lines() -> None:
    forged = "x.xlsx\n  2025-05-29 agreements: ICE 635 (ICE), imported 635: matches"
    summary = ImportSummary([], [(forged, "not an ICE list:\rreason")])
    lines = summary_lines(summary, lambda channel, day: 0)
    assert (
        lines[-1]
        == "  x.xlsx 2025-05-29 agreements: ICE 635 (ICE), imported 635: matches: not an ICE list: reason"
    )
    assert len(lines) == 3


def test_a_token_in_the_repository_url_is_never_printed_stored_or_kept(
    scraped: tuple[Path, list[str]], http_server: LoopbackHTTPServer, tmp_path: Path
) -> None:
    repo, _ = scraped
    served = tmp_path / "served.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(repo), str(served)], check=True)
    subprocess.run(["git", "-C", str(served), "update-server-info"], check=True)
    for file in served.rglob("*"):
        if file.is_file():
            http_server.route(
                f"/served.git/{file.relative_to(served)}", file.read_bytes(), "application/octet-stream"
            )
    secret = "ghp_SECRETtoken123"
    url = http_server.url("/served.git").replace("http://", f"http://reader:{secret}@")
    settings = config(tmp_path)
    code, out, err = cli(settings, "import", "git", url)
    assert code == 0, err
    assert secret not in out + err and "cloning http://127.0.0.1:" in err
    store = Store(tmp_path / "w.db")
    try:
        keys = [row[0] for row in store.db.execute("select key from sightings")]
        urls = [e["url"] for e in queries.events(store)]
    finally:
        store.close()
    assert keys and all(key.startswith(http_server.url("/served.git") + "@") for key in keys)
    assert urls and not any(secret in str(u) for u in urls)
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("w.db*") if p.is_file())
    assert secret.encode() not in stored
    http_server.stop()
    code, out, err = cli(settings, "import", "git", url)  # git's own error quotes the URL back
    assert code == 1 and secret not in out + err and "unable to access" in err
