"""Fixtures for the `ward mcp` tests: a scratch folder with a config and a
journal, raw sessions that are always stopped, and anyio on asyncio for the
SDK tests."""

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from support import RawWard, write_config


@pytest.fixture
def anyio_backend() -> str:
    """The SDK runs on anyio; asyncio is what real clients use."""
    return "asyncio"


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    """A folder holding config.yaml (the test packs) and, once ward ran, journal/."""
    write_config(tmp_path)
    return tmp_path


@pytest.fixture
def raw(scratch: Path) -> Iterator[Callable[..., RawWard]]:
    """Starts raw `ward mcp` sessions on the scratch config; all are stopped after."""
    started: list[RawWard] = []

    def start(*flags: str, config: Path | None = None) -> RawWard:
        session = RawWard(config or scratch / "config.yaml", *flags)
        started.append(session)
        return session

    yield start
    for session in started:
        session.stop()
