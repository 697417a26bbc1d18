"""Runs the `async def` tests: each in a fresh event loop, with a deadline."""

import asyncio
import inspect
import shutil
import sys
from pathlib import Path

import pytest

from support import TEST_TIMEOUT_S

# ward_devcp.py is a script, not a package: the unit tests import it from its folder.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Runs an `async def` test to completion in a fresh event loop, with a deadline."""
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    names = pyfuncitem._fixtureinfo.argnames
    arguments = {name: pyfuncitem.funcargs[name] for name in names}
    asyncio.run(asyncio.wait_for(pyfuncitem.obj(**arguments), TEST_TIMEOUT_S))
    return True


@pytest.fixture(scope="session")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A state folder with a CA and server certificate, made once for the session."""
    import ward_devcp

    folder = tmp_path_factory.mktemp("certificates")
    ward_devcp.prepare_state(folder, key_file=None)
    return folder


@pytest.fixture
def state_dir(certificates: Path, tmp_path: Path) -> Path:
    """A fresh state folder holding the session's certificates, which saves each test
    the openssl calls; tests of the state folder itself use an empty tmp_path."""
    folder = tmp_path / "state"
    folder.mkdir(mode=0o700)
    for name in ("ca.pem", "ca.key", "server.pem", "server.key"):
        shutil.copy2(certificates / name, folder / name)
    return folder
