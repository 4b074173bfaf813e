"""Deployment steps (prefect.yaml `pull:`), run by the worker's flow-run process before the flow is loaded."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]  # the checkout this package is installed from
HOME_VARIABLE = "WATCH287G_HOME"


def set_project_directory(directory: str | None = None) -> dict[str, str]:
    """chdir to the watch287g checkout, so the entrypoint `flows/...` and a relative `config_path` (and the
    database next to it) are found whatever directory the worker was started in.

    Which checkout: `directory` if given; else $WATCH287G_HOME as the flow-run process sees it (read here, at
    run time, on the worker's machine; a `{{ $WATCH287G_HOME }}` placeholder in prefect.yaml would instead be
    frozen at deploy time if the variable were set then); else the checkout this package is installed from."""
    chosen = directory or os.environ.get(HOME_VARIABLE) or ""
    target = Path(chosen).expanduser() if chosen.strip() else PROJECT
    if not (target / "flows").is_dir():
        raise FileNotFoundError(
            f"{target} is not a watch287g checkout (no flows/ folder); set {HOME_VARIABLE}"
        )
    os.chdir(target)
    return {"directory": str(target.resolve())}
