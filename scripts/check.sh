#!/usr/bin/env bash
# The one command that runs every check: installs into .venv (idempotent), then ruff, mypy, pytest.
# README's test command and .ci/run both run exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[test]'
  touch "$stamp"
fi
# tests/test_report.py renders the report in headless Chromium (Debian's package); install it once if missing.
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "tests need Chromium: run 'apt-get install -y chromium' as root" >&2
    exit 1
  fi
fi
# tests/test_moa_read.py OCRs a scanned MOA page with Tesseract (Debian's packages); install it once if missing.
if ! command -v tesseract >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tesseract-ocr tesseract-ocr-eng >/dev/null
  else
    echo "tests need Tesseract OCR: run 'apt-get install -y tesseract-ocr tesseract-ocr-eng' as root" >&2
    exit 1
  fi
fi
export PREFECT_HOME="${PREFECT_HOME:-$PWD/.prefect-test}"
export PREFECT_SERVER_ANALYTICS_ENABLED=false
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/python -m pytest "$@"
