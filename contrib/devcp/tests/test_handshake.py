"""The opening handshake and the state folder: certificates, key, endpoint.json."""

import asyncio
import json
import stat

import pytest
from websockets.exceptions import InvalidStatus

from support import PATH, DevCP, runner


async def expect_status(devcp: DevCP, status: int, **dial_options: object) -> dict:
    """Dials, expects the upgrade refused with `status`, and returns the headers."""
    with pytest.raises(InvalidStatus) as refused:
        async with devcp.dial(**dial_options):
            pass
    assert refused.value.response.status_code == status
    return refused.value.response.headers


async def test_accepts_runner_with_key_and_subprotocol(state_dir):
    async with DevCP.running(state_dir) as devcp:
        async with devcp.dial() as connection:
            assert connection.subprotocol == "ward.v1"


async def test_refuses_wrong_key_with_401(state_dir):
    async with DevCP.running(state_dir) as devcp:
        headers = await expect_status(devcp, 401, key="not-the-key")
        assert headers["WWW-Authenticate"] == "Bearer"
        await devcp.expect("rejected", status=401)


async def test_refuses_missing_key_with_401(state_dir):
    async with DevCP.running(state_dir) as devcp:
        await expect_status(devcp, 401, headers={})


async def test_refuses_other_path_with_404(state_dir):
    async with DevCP.running(state_dir) as devcp:
        await expect_status(devcp, 404, path="/v2/runner")
        await devcp.expect("rejected", status=404, path="/v2/runner")


async def test_refuses_client_without_subprotocol_with_400(state_dir):
    async with DevCP.running(state_dir) as devcp:
        await expect_status(devcp, 400, subprotocols=None)


async def test_refuses_with_503_and_retry_after_for_the_given_time(state_dir):
    async with DevCP.running(state_dir, "--refuse-for", "1") as devcp:
        headers = await expect_status(devcp, 503)
        assert headers["Retry-After"] == "1"
        await asyncio.sleep(1.1)
        async with devcp.dial():
            pass


async def test_never_upgrade_leaves_the_request_unanswered(state_dir):
    async with DevCP.running(state_dir, "--never-upgrade") as devcp:
        with pytest.raises(TimeoutError):
            async with devcp.dial(open_timeout=0.3):
                pass


async def test_endpoint_file_names_url_ca_and_key(state_dir):
    async with DevCP.running(state_dir) as devcp:
        endpoint = json.loads((state_dir / "endpoint.json").read_text())
        assert endpoint == devcp.endpoint
        assert endpoint["url"].startswith("wss://127.0.0.1:")
        assert endpoint["url"].endswith(PATH)
        assert endpoint["ca_file"] == str(state_dir / "ca.pem")
        assert endpoint["key_file"] == str(state_dir / "runner.key")
        async with runner(devcp):
            pass


async def test_keeps_keys_readable_by_owner_only(tmp_path):
    async with DevCP.running(tmp_path):
        for name in ("ca.key", "server.key", "runner.key"):
            assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600, name


async def test_reuses_certificates_and_key_on_second_start(tmp_path):
    names = ("ca.pem", "ca.key", "server.pem", "server.key", "runner.key")
    async with DevCP.running(tmp_path):
        first = {name: (tmp_path / name).read_bytes() for name in names}
    async with DevCP.running(tmp_path) as devcp:
        assert {name: (tmp_path / name).read_bytes() for name in names} == first
        async with runner(devcp):
            pass


async def test_accepts_the_key_in_key_file(tmp_path, state_dir):
    key_file = tmp_path / "my.key"
    key_file.write_text("dev-key-42\n")
    async with DevCP.running(state_dir, "--key-file", str(key_file)) as devcp:
        assert devcp.endpoint["key_file"] == str(key_file)
        assert not (state_dir / "runner.key").exists()
        async with devcp.dial(key="dev-key-42"):
            pass
