"""The committed schema.graphql is what the code serves: a schema change shows up in review."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from stateset_gateway.schema.schema import sdl

ROOT = Path(__file__).resolve().parents[2]


def test_committed_sdl_matches_the_code() -> None:
    committed = (ROOT / "schema.graphql").read_text()
    assert committed == sdl(), "schema.graphql is stale: run `stateset-cli schema print > schema.graphql`"


def test_cli_prints_the_same_sdl() -> None:
    out = subprocess.run([sys.executable, "-m", "stateset_gateway.cli", "schema", "print"],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout == sdl()
