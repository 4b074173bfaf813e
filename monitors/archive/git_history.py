"""A git repository's history of spreadsheets (git scraping): one ArchivedBody per commit and changed file.

Only plain `git` subprocesses with list arguments: the repository argument is user input, so it is checked
(no leading '-', only ordinary transports), `--` ends the options, globs are matched here (never handed to
git as pathspecs, whose magic they could use), and git is told never to prompt and never to use the transports
that run commands (ext::, fd::)."""

from __future__ import annotations

import fnmatch
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from monitors.archive.body import ArchivedBody
from monitors.archive.file_names import channel_by_name, time_in_name
from monitors.http import redact_url

DEFAULT_GLOBS = ["*.xlsx", "*.xls"]
# ICE's lists are 30-300 kB; a file this large is not one of them and is not read into memory.
MAX_FILE_BYTES = 50_000_000
# Transports that run programs or reuse descriptors, and a local repository's own fsmonitor command: never.
_NEVER = ("protocol.ext.allow=never", "protocol.fd.allow=never", "core.fsmonitor=false")
_SAFE_CONFIG = [word for setting in _NEVER for word in ("-c", setting)]
_URL = re.compile(r"^(https?|git|ssh)://[^\s]+$")
_SCP_LIKE = re.compile(r"^\w[\w.-]*@\w[\w.-]*:[^\s]+$")  # user@host:path (ssh)
_COMMIT = re.compile(r"^[0-9a-f]{40}(?:[0-9a-f]{24})?$")


_USERINFO = re.compile(r"(\w+://)[^/@\s]*@")  # user:password@ in a URL git quotes back


class GitError(RuntimeError):
    """The repository cannot be read (not a repository, clone failed, refused argument): git's own words."""


def git_bodies(
    repository: str,
    globs: list[str] | None = None,
    *,
    known: Callable[[str], bool] = lambda key: False,
    progress: Callable[[str], None] = lambda line: None,
    skipped: Callable[[str, str], None] = lambda name, why: None,
) -> Iterator[ArchivedBody]:
    """Every version of every matching file, commit by commit (oldest first), with the commit time.

    `known(key)` (key = "repository@commit:path") says a sighting is already stored: it is not read again.
    `skipped(path, why)` hears of files not read (too large). A URL is cloned into a temporary folder, removed after."""
    patterns = globs or DEFAULT_GLOBS
    with _local_repository(repository, progress) as (directory, label):
        commits = _changes(directory, patterns)
        progress(
            f"{label}: {sum(len(paths) for _, _, paths in commits)} file versions in {len(commits)} commits"
        )
        for commit, when, paths in commits:
            times = commit_times(when, paths)
            for path in paths:
                if known(f"{label}@{commit}:{path}"):
                    continue
                at, why = times[path]
                if at is None:
                    skipped(path, why)
                    continue
                body = _read_blob(directory, commit, path, skipped)
                if body is not None:
                    where = {"archive": "git", "repository": label, "commit": commit, "path": path}
                    if at != when:
                        where["dated_by"] = f"file name (committed {when})"
                    yield ArchivedBody(at, body, path.rsplit("/", 1)[-1], where)


def commit_times(when: str, paths: list[str]) -> dict[str, tuple[str | None, str]]:
    """Each path's time: the commit's, unless the commit holds several files of one list (a repository of
    dated copies added at once), whose order only their names tell: then the time each name states (not after
    the commit). A file of such a commit whose name states no usable time is refused, with the reason."""
    by_list: dict[str | None, list[str]] = {}
    for path in paths:
        by_list.setdefault(channel_by_name(path), []).append(path)
    times: dict[str, tuple[str | None, str]] = {path: (when, "") for path in paths}
    for channel, together in by_list.items():
        if channel is None or len(together) < 2:
            continue
        for path in together:
            named = time_in_name(path)
            if named is not None and named <= when:
                times[path] = (named, "")
            else:
                times[path] = (None, f"one of {len(together)} {channel} lists in one commit, and its name "
                                     f"states no time before the commit's ({when}): its place in time is unknown")  # fmt: skip
    return times


def check_repository_argument(repository: str) -> None:
    """Refuse what git would take as an option or as a command-running transport (ext::, fd::, file::...)."""
    if not repository or repository.startswith("-"):
        raise GitError(f"refused repository {repository!r}: it must not start with '-'")
    if _URL.match(repository) or _SCP_LIKE.match(repository):
        return
    if "::" in repository or "://" in repository:
        raise GitError(
            f"refused repository {repository!r}: only https://, http://, git://, ssh:// "
            "(or user@host:path) and local paths"
        )
    if not Path(repository).is_dir():
        raise GitError(f"{repository}: no such directory (and not a repository URL)")


def _environment() -> dict[str, str]:
    environment = dict(os.environ, GIT_TERMINAL_PROMPT="0", GIT_ALLOW_PROTOCOL="https:http:git:ssh")
    environment["GIT_SSH_COMMAND"] = environment.get("GIT_SSH_COMMAND", "ssh -o BatchMode=yes")
    return environment


def _git(directory: Path | None, *arguments: str) -> bytes:
    """stdout of one git command; its stderr as a GitError when it fails."""
    command = ["git", *_SAFE_CONFIG, *(["-C", str(directory)] if directory else []), *arguments]
    try:
        done = subprocess.run(command, capture_output=True, env=_environment(), check=False)
    except FileNotFoundError:
        raise GitError("git is not installed (no `git` on PATH)") from None
    if done.returncode != 0:
        said = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(said[-1] if said else f"git {arguments[0]} failed ({done.returncode})")
    return done.stdout


@contextmanager
def _local_repository(repository: str, progress: Callable[[str], None]) -> Iterator[tuple[Path, str]]:
    """(folder to read, label for provenance): a local path as is (absolute), a URL as a temporary bare clone."""
    check_repository_argument(repository)
    if Path(repository).is_dir():
        directory = Path(repository).resolve()
        try:
            _git(directory, "rev-parse", "--git-dir")
        except GitError as error:  # "fatal: not a git repository (or any of the parent directories)"
            raise GitError(f"{repository}: {error}") from None
        yield directory, str(directory)
        return
    shown = redact_url(repository)  # a token in the URL is never printed, stored or put in provenance
    folder = Path(tempfile.mkdtemp(prefix="watch287g-git-"))
    try:
        progress(f"cloning {shown}")
        try:
            _git(None, "clone", "--quiet", "--bare", "--", repository, str(folder / "repo"))
        except GitError as error:
            raise GitError(_USERINFO.sub(r"\1", str(error).replace(repository, shown))) from None
        yield folder / "repo", shown
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _changes(directory: Path, globs: list[str]) -> list[tuple[str, str, list[str]]]:
    """(commit, commit time in UTC, matching paths added or modified), oldest commit first.

    Renames count as additions (--no-renames): the renamed file is a sighting at its new path; identical bytes
    are merged later by the importer. Globs match the file name or the whole path."""
    try:
        _git(directory, "rev-parse", "--verify", "--quiet", "HEAD^{commit}")
    except GitError:
        return []  # no commit yet
    log = _git(
        directory, "log", "--reverse", "--no-renames", "--diff-filter=AM", "--name-only",
        "-z", "--format=%x01%H %cI", "--",
    )  # fmt: skip
    commits = []
    for entry in log.decode("utf-8", "surrogateescape").split("\x01")[1:]:
        header, _, names = entry.partition("\x00")  # "<sha> <time>" NUL "\n" then NUL-separated paths
        commit, _, when = header.partition(" ")
        paths = [name for name in names.removeprefix("\n").split("\x00") if name]
        matching = [p for p in paths if _matches(p, globs)]
        if matching and _COMMIT.match(commit):
            commits.append((commit, _utc(when), matching))
    return commits


def _matches(path: str, globs: list[str]) -> bool:
    name = path.rsplit("/", 1)[-1]
    return any(fnmatch.fnmatch(name.lower(), g.lower()) or fnmatch.fnmatch(path, g) for g in globs)


def _utc(when: str) -> str:
    return datetime.fromisoformat(when).astimezone(UTC).isoformat(timespec="seconds")


def _read_blob(directory: Path, commit: str, path: str, skipped: Callable[[str, str], None]) -> bytes | None:
    """The file's bytes at that commit, or None (said to `skipped`) when it is too large to be a list."""
    spec = f"{commit}:{path}"
    size = int(_git(directory, "cat-file", "-s", spec).strip() or b"0")
    if size > MAX_FILE_BYTES:
        skipped(path, f"too large for a list ({size:,} bytes; at most {MAX_FILE_BYTES:,})")
        return None
    return _git(directory, "cat-file", "blob", spec)
