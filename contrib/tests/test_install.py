"""The release tarball, install.sh and the service files (docs/install.md).

install.sh runs for real, as root, into scratch roots (--root) against tarballs
that `make dist` builds around a stand-in binary, so no test needs a running
systemd or touches the host's accounts. The unit is checked with
systemd-analyze, the plist with plutil when the Swift toolchain ships it, every
shell script with shellcheck, and the container files statically: no Docker
engine runs here.
"""

import hashlib
import os
import plistlib
import re
import shutil
import stat
import subprocess
import tarfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
INSTALL = REPO / "contrib" / "install.sh"
UNIT = REPO / "contrib" / "systemd" / "ward.service"
GRANTS = REPO / "contrib" / "systemd" / "grants"
PLIST = REPO / "contrib" / "launchd" / "ward.plist"
SKELETON = REPO / "contrib" / "etc"
DOCKERFILE = REPO / "contrib" / "Dockerfile"
COMPOSE = REPO / "contrib" / "docker-compose.yaml"

# Where install.sh puts things, relative to the root (docs/install.md).
BIN = "usr/local/bin/ward"
SHARE = "usr/local/share/ward"
INSTALLED_UNIT = "usr/local/lib/systemd/system/ward.service"
WANTS_LINK = "etc/systemd/system/multi-user.target.wants/ward.service"
ETC = "etc/ward"
STATE = "var/lib/ward"
JOURNAL = "var/lib/ward/journal"
# The version the upgrade tests move to: anything but the current one.
NEXT_VERSION = "9.9.9"
# install.sh and a stand-in tarball take well under a second; a hang fails fast.
TIMEOUT_S = 120

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0, reason="install.sh runs as root (make test runs the suite as root)"
)


def source_version() -> str:
    text = (REPO / "Sources/Runner/Support/Version.swift").read_text()
    return re.search(r'current = "([^"]+)"', text).group(1)


def swift_default(pattern: str, path: str) -> int:
    """The defaultValue of an IntegerSetting named by `pattern` in a Swift file."""
    text = (REPO / path).read_text()
    match = re.search(pattern + r" = IntegerSetting\(defaultValue: ([0-9_]+)", text)
    assert match, f"{pattern} not found in {path}"
    return int(match.group(1).replace("_", ""))


def drain_and_kill_grace_s() -> float:
    """Longest a stop takes with the default settings: drain grace plus kill grace."""
    drain_ms = swift_default("drainGrace", "Sources/Runner/Config/ControlPlaneConfig.swift")
    kill_s = swift_default("killGraceSeconds", "Sources/Runner/Config/RunnerConfig.swift")
    return drain_ms / 1000 + kill_s


def host_tag() -> str:
    return f"{os.uname().sysname.lower()}-{os.uname().machine}"


def ward_binary() -> Path | None:
    """A real ward built in this checkout, for the tests that load configs and packs:
    $WARD_BINARY, else the debug build `make test` makes, else bin/ward (which may be
    older than the checkout)."""
    named = os.environ.get("WARD_BINARY")
    candidates = [Path(named)] if named else []
    for candidate in candidates + [REPO / ".build/debug/ward", REPO / "bin/ward"]:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def make_release(out: Path, label: str, version: str | None = None) -> Path:
    """`make dist` around a stand-in binary that prints `label`; returns the tarball."""
    out.mkdir(parents=True, exist_ok=True)
    standin = out / "ward-standin"
    standin.write_text(f"#!/bin/sh\necho 'ward stand-in {label}'\n")
    standin.chmod(0o755)
    args = ["make", "-s", "-C", str(REPO), "dist", f"DIST_BIN={standin}", f"DIST_DIR={out}"]
    if version:
        args.append(f"DIST_VERSION={version}")
    subprocess.run(args, check=True, capture_output=True, timeout=TIMEOUT_S)
    name = f"ward-{version or source_version()}-{host_tag()}.tar.gz"
    tarball = out / name
    assert tarball.is_file(), f"make dist made no {name}"
    return tarball


@pytest.fixture(scope="session")
def release(tmp_path_factory) -> Path:
    return make_release(tmp_path_factory.mktemp("release"), "current")


@pytest.fixture(scope="session")
def next_release(tmp_path_factory) -> Path:
    return make_release(tmp_path_factory.mktemp("next"), "next", NEXT_VERSION)


@pytest.fixture
def root(tmp_path) -> Path:
    """A scratch root holding only root's account, as install.sh --root needs."""
    top = tmp_path / "root"
    (top / "etc").mkdir(parents=True)
    (top / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/bash\n")
    (top / "etc/group").write_text("root:x:0:\n")
    for name in ("shadow", "gshadow"):
        (top / "etc" / name).write_text("root:*::\n" if name == "gshadow" else "root:*:1::::::\n")
        (top / "etc" / name).chmod(0o600)
    return top


def install(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["sh", str(INSTALL), "--root", str(root), *args],
        capture_output=True, text=True, timeout=TIMEOUT_S,
    )


def installed(root: Path, *args: str) -> subprocess.CompletedProcess:
    result = install(root, *args)
    assert result.returncode == 0, result.stderr + result.stdout
    return result


def snapshot(top: Path) -> dict:
    """Every entry under `top` with its type, owner, mode, mtime and content hash."""
    entries = {}
    for dirpath, dirnames, filenames in os.walk(top):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            st = path.lstat()
            if stat.S_ISLNK(st.st_mode):
                content = os.readlink(path)
            elif stat.S_ISREG(st.st_mode):
                content = hashlib.sha256(path.read_bytes()).hexdigest()
            else:
                content = None
            entries[str(path.relative_to(top))] = (
                stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid,
                st.st_mtime_ns, content,
            )
    return entries


def account(root: Path, name: str = "ward") -> tuple[int, int, str, str] | None:
    """(uid, gid, home, shell) of `name` in the root's passwd, or None."""
    for line in (root / "etc/passwd").read_text().splitlines():
        fields = line.split(":")
        if fields[0] == name:
            return int(fields[2]), int(fields[3]), fields[5], fields[6]
    return None


def group_names(root: Path) -> list[str]:
    return [line.split(":")[0] for line in (root / "etc/group").read_text().splitlines()]


def owner_mode(path: Path) -> tuple[int, int, int]:
    st = path.lstat()
    return st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)


# ---------------------------------------------------------------- make dist


def test_dist_names_the_tarball_with_version_os_and_arch(release):
    assert release.name == f"ward-{source_version()}-{host_tag()}.tar.gz"
    checksum = release.with_name(release.name + ".sha256").read_text()
    assert checksum == f"{hashlib.sha256(release.read_bytes()).hexdigest()}  {release.name}\n"
    assert (release.parent / "install.sh").read_bytes() == INSTALL.read_bytes()


def test_dist_holds_binary_packs_service_files_skeleton_and_docs(release):
    top = release.name.removesuffix(".tar.gz")
    with tarfile.open(release) as tar:
        members = {m.name: m for m in tar.getmembers()}
        release_file = tar.extractfile(f"{top}/RELEASE").read().decode()
    for path in [
        "bin/ward", "install.sh", "RELEASE", "README.md", "LICENSE.md",
        "packs/linux-core/pack.yaml", "packs/cassandra/pack.yaml", "packs/showcase/pack.yaml",
        "etc/config.yaml", "etc/runner.env", "systemd/ward.service",
        "systemd/grants/journal-group.conf", "systemd/grants/kernel-log-capability.conf",
        "systemd/grants/restart-unit.rules", "systemd/grants/service-restart/pack.yaml",
        "launchd/ward.plist", "docs/install.md", "docs/config.md",
    ]:
        assert f"{top}/{path}" in members, path
    assert all(m.name == top or m.name.startswith(top + "/") for m in members.values())
    assert all(m.uid == 0 and m.gid == 0 for m in members.values())
    assert members[f"{top}/bin/ward"].mode == 0o755
    os_name, arch = host_tag().split("-", 1)
    assert release_file == f"version={source_version()}\nos={os_name}\narch={arch}\n"


def test_dist_twice_gives_the_same_bytes(release, tmp_path):
    again = make_release(tmp_path, "current")
    assert again.read_bytes() == release.read_bytes()


# ---------------------------------------------------------------- checksum first


def tampered_tarball(release: Path, tmp_path: Path) -> list[str]:
    copy = tmp_path / release.name
    copy.write_bytes(release.read_bytes() + b"\0")
    shutil.copy(release.with_name(release.name + ".sha256"), tmp_path)
    return [str(copy)]


def wrong_checksum_file(release: Path, tmp_path: Path) -> list[str]:
    copy = tmp_path / release.name
    shutil.copy(release, copy)
    (tmp_path / (release.name + ".sha256")).write_text("0" * 64 + f"  {release.name}\n")
    return [str(copy)]


def wrong_sha256_option(release: Path, tmp_path: Path) -> list[str]:
    return ["--sha256", "f" * 64, str(release)]


def missing_checksum_file(release: Path, tmp_path: Path) -> list[str]:
    copy = tmp_path / release.name
    shutil.copy(release, copy)
    return [str(copy)]


def wrong_checksum_at_url(release: Path, tmp_path: Path) -> list[str]:
    wrong_checksum_file(release, tmp_path)
    return [(tmp_path / release.name).as_uri()]


@pytest.mark.parametrize(
    "case, message",
    [
        (tampered_tarball, "checksum mismatch"),
        (wrong_checksum_file, "checksum mismatch"),
        (wrong_sha256_option, "checksum mismatch"),
        (missing_checksum_file, "no checksum file"),
        (wrong_checksum_at_url, "checksum mismatch"),
    ],
)
def test_bad_checksum_is_refused_with_nothing_written(release, root, tmp_path, case, message):
    before = snapshot(root)
    work = tmp_path / "work"
    work.mkdir()
    result = install(root, *case(release, work))
    assert result.returncode == 1
    assert message in result.stderr
    assert snapshot(root) == before


def test_plain_http_url_is_refused_with_nothing_written(root):
    before = snapshot(root)
    result = install(root, "http://releases.example.com/ward.tar.gz")
    assert result.returncode == 1
    assert "use an https:// URL" in result.stderr
    assert snapshot(root) == before


def test_release_for_another_architecture_is_refused(release, root, tmp_path):
    top = release.name.removesuffix(".tar.gz")
    with tarfile.open(release) as tar:
        tar.extractall(tmp_path / "x", filter="tar")
    (tmp_path / "x" / top / "RELEASE").write_text("version=0.1.0\nos=linux\narch=sparc64\n")
    other = tmp_path / "other.tar.gz"
    with tarfile.open(other, "w:gz") as tar:
        tar.add(tmp_path / "x" / top, arcname=top)
    before = snapshot(root)
    result = install(root, "--sha256", hashlib.sha256(other.read_bytes()).hexdigest(), str(other))
    assert result.returncode == 1
    assert f"built for linux-sparc64; this host is {host_tag()}" in result.stderr
    assert snapshot(root) == before


def test_url_install_checks_the_checksum_fetched_beside_it(release, root):
    installed(root, release.as_uri())
    assert (root / BIN).read_bytes() == tarball_binary(release)


# ---------------------------------------------------------------- fresh install


def tarball_binary(tarball: Path) -> bytes:
    top = tarball.name.removesuffix(".tar.gz")
    with tarfile.open(tarball) as tar:
        return tar.extractfile(f"{top}/bin/ward").read()


def test_fresh_install_creates_an_unprivileged_service_account(release, root):
    installed(root, str(release))
    uid, gid, home, shell = account(root)
    assert uid != 0 and gid != 0
    assert home == "/var/lib/ward"
    assert shell.endswith("nologin") or shell.endswith("false")
    assert "ward" in group_names(root)


def test_fresh_install_lays_out_every_file_with_its_owner_and_mode(release, root):
    installed(root, str(release))
    uid, gid, _, _ = account(root)
    expected = {
        BIN: (0, 0, 0o755),
        SHARE: (0, 0, 0o755),
        f"{SHARE}/systemd/ward.service": (0, 0, 0o644),
        f"{SHARE}/etc/config.yaml": (0, 0, 0o644),
        f"{SHARE}/install.sh": (0, 0, 0o755),
        f"{SHARE}/docs/install.md": (0, 0, 0o644),
        f"{SHARE}/packs/showcase/pack.yaml": (0, 0, 0o644),
        INSTALLED_UNIT: (0, 0, 0o644),
        ETC: (0, gid, 0o750),
        f"{ETC}/config.yaml": (0, gid, 0o640),
        f"{ETC}/runner.env": (0, 0, 0o600),
        f"{ETC}/runner.key": (0, 0, 0o600),
        f"{ETC}/packs": (0, 0, 0o755),
        f"{ETC}/packs/linux-core": (0, 0, 0o755),
        f"{ETC}/packs/linux-core/pack.yaml": (0, 0, 0o644),
        STATE: (uid, gid, 0o700),
        JOURNAL: (uid, gid, 0o700),
    }
    actual = {path: owner_mode(root / path) for path in expected}
    assert actual == expected


def test_fresh_install_writes_the_skeletons_and_an_empty_key(release, root):
    installed(root, str(release))
    assert (root / ETC / "config.yaml").read_bytes() == (SKELETON / "config.yaml").read_bytes()
    assert (root / ETC / "runner.env").read_bytes() == (SKELETON / "runner.env").read_bytes()
    assert (root / ETC / "runner.key").read_bytes() == b""
    assert (root / BIN).read_bytes() == tarball_binary(release)


def test_fresh_install_enables_linux_core_only(release, root):
    installed(root, str(release))
    assert sorted(p.name for p in (root / ETC / "packs").iterdir()) == ["linux-core"]
    assert sorted(p.name for p in (root / SHARE / "packs").iterdir()) == [
        "cassandra", "linux-core", "showcase",
    ]


def test_fresh_install_enables_the_unit(release, root):
    installed(root, str(release))
    assert (root / INSTALLED_UNIT).read_bytes() == UNIT.read_bytes()
    assert os.readlink(root / WANTS_LINK) == "/" + INSTALLED_UNIT


def test_config_and_packs_are_files_ward_trusts(release, root):
    """ward refuses config and pack files anyone but root could change."""
    installed(root, str(release))
    for path in [root / ETC, *(root / ETC).rglob("*"), *(root / SHARE).rglob("*")]:
        uid, _, mode = owner_mode(path)
        assert uid == 0, path
        assert mode & 0o022 == 0, path


def test_no_service_installs_no_unit(release, root):
    installed(root, "--no-service", str(release))
    assert (root / BIN).is_file()
    assert not (root / INSTALLED_UNIT).exists()
    assert not (root / WANTS_LINK).is_symlink()


# ---------------------------------------------------------------- twice, upgrade


def test_second_run_changes_nothing(release, root):
    installed(root, str(release))
    before = snapshot(root)
    installed(root, str(release))
    assert snapshot(root) == before


def test_install_over_a_different_ward_is_refused(release, next_release, root):
    installed(root, str(release))
    before = snapshot(root)
    result = install(root, str(next_release))
    assert result.returncode == 1
    assert "use --upgrade" in result.stderr
    assert snapshot(root) == before


def test_upgrade_without_an_installed_ward_is_refused(next_release, root):
    before = snapshot(root)
    result = install(root, "--upgrade", str(next_release))
    assert result.returncode == 1
    assert "not installed" in result.stderr
    assert snapshot(root) == before


def write_journal(root: Path) -> Path:
    """A journal line as the service would leave it: owned by ward, mode 0600."""
    uid, gid, _, _ = account(root)
    journal = root / JOURNAL / "events.jsonl"
    journal.write_text('{"seq":1,"time":"2026-12-03T14:33:12.123Z","prev":"' + "0" * 64
                       + '","event":"refused"}\n')
    os.chown(journal, uid, gid)
    journal.chmod(0o600)
    return journal


def test_upgrade_swaps_the_binary_and_keeps_config_key_packs_and_journal(
    release, next_release, root
):
    installed(root, str(release))
    config = root / ETC / "config.yaml"
    config.write_text(config.read_text().replace("labels: {}", "labels: {env: edited}"))
    (root / ETC / "runner.key").write_text("k" * 32)
    shutil.copytree(root / SHARE / "packs/showcase", root / ETC / "packs/showcase")
    write_journal(root)
    kept = {path: entry for path, entry in snapshot(root).items()
            if path.startswith((ETC, STATE))}

    installed(root, "--upgrade", str(next_release))

    assert (root / BIN).read_bytes() == tarball_binary(next_release)
    assert f"version={NEXT_VERSION}\n" in (root / SHARE / "RELEASE").read_text()
    after = snapshot(root)
    assert {path: after.get(path) for path in kept} == kept
    assert "labels: {env: edited}" in config.read_text()


def test_upgrade_twice_changes_nothing(release, next_release, root):
    installed(root, str(release))
    installed(root, "--upgrade", str(next_release))
    before = snapshot(root)
    installed(root, "--upgrade", str(next_release))
    assert snapshot(root) == before


# ---------------------------------------------------------------- uninstall


def test_uninstall_removes_service_and_binary_and_keeps_config_and_journal(release, root):
    installed(root, str(release))
    journal = write_journal(root)
    config = (root / ETC / "config.yaml").read_bytes()

    installed(root, "--uninstall")

    for path in (BIN, SHARE, INSTALLED_UNIT, WANTS_LINK):
        assert not os.path.lexists(root / path), path
    assert (root / ETC / "config.yaml").read_bytes() == config
    assert (root / ETC / "runner.key").exists()
    assert (root / ETC / "packs/linux-core/pack.yaml").exists()
    assert journal.read_text().startswith('{"seq":1,')
    assert account(root) is not None


def test_purge_removes_config_journal_and_account(release, root):
    installed(root, str(release))
    write_journal(root)
    dropins = root / "etc/systemd/system/ward.service.d"
    dropins.mkdir(parents=True)
    shutil.copy(GRANTS / "journal-group.conf", dropins)

    installed(root, "--uninstall", "--purge")

    for path in (BIN, SHARE, INSTALLED_UNIT, WANTS_LINK, ETC, STATE):
        assert not os.path.lexists(root / path), path
    assert not dropins.exists()
    assert account(root) is None
    assert "ward" not in group_names(root)


def test_uninstall_twice_is_fine(release, root):
    installed(root, str(release))
    installed(root, "--uninstall")
    before = snapshot(root)
    installed(root, "--uninstall")
    assert snapshot(root) == before


@pytest.mark.parametrize(
    "args, message",
    [
        ([], "no tarball given"),
        (["--purge", "x.tar.gz"], "--purge goes with --uninstall"),
        (["--uninstall", "x.tar.gz"], "--uninstall takes no tarball"),
        (["--frobnicate"], "unknown option --frobnicate"),
        (["--sha256", "0" * 64, "--checksum", "x.sha256", "x.tar.gz"], "not both"),
        (["a.tar.gz", "b.tar.gz"], "one tarball only"),
    ],
)
def test_wrong_command_line_exits_2_with_nothing_written(root, args, message):
    before = snapshot(root)
    result = install(root, *args)
    assert (result.returncode, message in result.stderr) == (2, True), result.stderr
    assert snapshot(root) == before


def test_reinstall_after_uninstall_finds_the_kept_config(release, root):
    installed(root, str(release))
    config = root / ETC / "config.yaml"
    config.write_text(config.read_text() + "# edited\n")
    installed(root, "--uninstall")
    installed(root, str(release))
    assert config.read_text().endswith("# edited\n")


# ---------------------------------------------------------------- with a real ward


@pytest.fixture
def ward() -> Path:
    binary = ward_binary()
    if binary is None:
        pytest.skip("no ward built in this checkout (bin/ward or .build/debug/ward)")
    return binary


def test_installed_config_and_packs_load(release, root, ward):
    """The skeleton as installed, its absolute paths moved into the scratch root."""
    installed(root, str(release))
    text = (root / ETC / "config.yaml").read_text()
    text = text.replace("/etc/ward/packs", str(root / ETC / "packs"))
    text = text.replace("/var/lib/ward/", str(root / STATE) + "/")
    config = root / ETC / "test-config.yaml"
    config.write_text(text)
    config.chmod(0o600)
    result = subprocess.run([ward, "--config", config, "action", "list"],
                            capture_output=True, text=True, timeout=TIMEOUT_S)
    assert result.returncode == 0, result.stderr
    assert "linux.uptime" in result.stdout
    assert result.stderr == ""


def test_grant_example_pack_loads(release, root, ward):
    installed(root, str(release))
    result = subprocess.run(
        [ward, "pack", "validate", root / SHARE / "systemd/grants/service-restart"],
        capture_output=True, text=True, timeout=TIMEOUT_S,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "service-restart" in result.stdout


# ---------------------------------------------------------------- the unit


def unit_values(text: str) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for line in text.splitlines():
        if "=" in line and not line.lstrip().startswith(("#", ";")):
            key, value = line.split("=", 1)
            values.setdefault(key.strip(), []).append(value.strip())
    return values


def seconds(value: str) -> float:
    match = re.fullmatch(r"([0-9]+)(s|min)?", value)
    assert match, f"cannot read {value!r} as a duration"
    return int(match.group(1)) * (60 if match.group(2) == "min" else 1)


@pytest.fixture
def standin(tmp_path) -> Path:
    path = tmp_path / "bin" / "ward"
    path.parent.mkdir()
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(0o755)
    return path


def verify_unit(text: str, standin: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed (apt-get install systemd)")
    assert text.count("ExecStart=/usr/local/bin/ward ") == 1
    unit = tmp_path / "verify" / "ward.service"
    unit.parent.mkdir()
    unit.write_text(text.replace("ExecStart=/usr/local/bin/ward ", f"ExecStart={standin} "))
    return subprocess.run(["systemd-analyze", "verify", str(unit)],
                          capture_output=True, text=True, timeout=TIMEOUT_S)


def test_unit_passes_systemd_analyze_verify(standin, tmp_path):
    result = verify_unit(UNIT.read_text(), standin, tmp_path)
    # Unknown keys and bad values are only warnings ("ignoring"): none may appear.
    assert (result.returncode, result.stderr, result.stdout) == (0, "", "")


@pytest.mark.parametrize("dropin", sorted(p.name for p in GRANTS.glob("*.conf")))
def test_unit_with_each_grant_dropin_passes_verify(dropin, standin, tmp_path):
    text = UNIT.read_text() + "\n" + (GRANTS / dropin).read_text()
    result = verify_unit(text, standin, tmp_path)
    assert (result.returncode, result.stderr, result.stdout) == (0, "", "")


def test_unit_restarts_on_failure_within_a_start_limit():
    values = unit_values(UNIT.read_text())
    assert values["Restart"] == ["on-failure"]
    assert int(values["StartLimitBurst"][0]) >= 1
    assert seconds(values["StartLimitIntervalSec"][0]) > 0


def test_unit_reads_the_env_file_and_loads_the_key_as_a_credential():
    values = unit_values(UNIT.read_text())
    assert values["EnvironmentFile"] == ["-/etc/ward/runner.env"]
    assert values["LoadCredential"] == ["ward-key:/etc/ward/runner.key"]
    assert values["ExecStart"] == ["/usr/local/bin/ward --config /etc/ward/config.yaml connect"]
    assert values["User"] == ["ward"]


@pytest.mark.parametrize(
    "directive, value",
    [
        ("NoNewPrivileges", "yes"),
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
        ("ReadWritePaths", "/var/lib/ward"),
        ("CapabilityBoundingSet", ""),
        ("KillMode", "mixed"),
    ],
)
def test_unit_is_hardened(directive, value):
    assert unit_values(UNIT.read_text())[directive] == [value]


def test_unit_gives_a_stop_longer_than_drain_and_kill_grace():
    stop = seconds(unit_values(UNIT.read_text())["TimeoutStopSec"][0])
    assert stop > drain_and_kill_grace_s()


def test_skeleton_drain_grace_fits_in_the_stop_timeout():
    stop = seconds(unit_values(UNIT.read_text())["TimeoutStopSec"][0])
    text = (SKELETON / "config.yaml").read_text()
    drain_ms = int(re.search(r"^  drain_grace_ms: ([0-9]+)$", text, re.M).group(1))
    kill_s = int(re.search(r"^  kill_grace_s: ([0-9]+)$", text, re.M).group(1))
    assert drain_ms / 1000 + kill_s < stop


def test_polkit_rule_allows_the_unit_the_example_pack_restarts():
    rule = (GRANTS / "restart-unit.rules").read_text()
    pack = (GRANTS / "service-restart/pack.yaml").read_text()
    ruled = re.findall(r'action\.lookup\("unit"\) === "([^"]+)"', rule)
    restarted = re.findall(r'"restart", "([^"]+)"\]', pack)
    assert ruled == restarted == ["nginx.service"]
    assert re.findall(r'subject\.user === "([^"]+)"', rule) == ["ward"]
    assert 'action.lookup("verb") === "restart"' in rule


# ---------------------------------------------------------------- launchd


def plutil() -> str | None:
    return shutil.which("plutil") or (
        "/opt/swift/usr/bin/plutil" if os.access("/opt/swift/usr/bin/plutil", os.X_OK) else None)


def test_plist_passes_plutil_lint():
    tool = plutil()
    if tool is None:
        pytest.skip("plutil not found (it ships with the Swift toolchain)")
    result = subprocess.run([tool, "-lint", str(PLIST)], capture_output=True, text=True,
                            timeout=TIMEOUT_S)
    assert result.returncode == 0, result.stdout + result.stderr


def test_plist_restarts_on_failure_with_throttling_and_a_long_enough_stop():
    plist = plistlib.loads(PLIST.read_bytes())
    assert plist["KeepAlive"] == {"SuccessfulExit": False}
    assert plist["ThrottleInterval"] >= 10
    assert plist["ExitTimeOut"] > drain_and_kill_grace_s()
    assert plist["ProgramArguments"] == [
        "/usr/local/bin/ward", "--config", "/etc/ward/config.yaml", "connect"]
    assert plist["UserName"] == "_ward"


# ---------------------------------------------------------------- shellcheck


def shell_scripts() -> list[Path]:
    """Every shell script in the checkout that git does not ignore: by extension, or
    by a shell in its #! line."""
    listed = subprocess.run(["git", "-C", str(REPO), "ls-files", "-z", "--cached", "--others",
                             "--exclude-standard"], capture_output=True,
                            check=True, timeout=TIMEOUT_S).stdout.decode().split("\0")
    scripts = []
    for name in filter(None, listed):
        path = REPO / name
        if not path.is_file():
            continue
        with path.open("rb") as f:
            first = f.readline(200)
        shebang = re.match(rb"#!\s*\S*(?:/|env\s+)(sh|bash|dash)\b", first)
        if name.endswith((".sh", ".bash")) or shebang:
            scripts.append(path)
    return scripts


def test_every_shell_script_passes_shellcheck():
    if shutil.which("shellcheck") is None:
        pytest.fail("shellcheck is not installed: make deps installs it")
    scripts = shell_scripts()
    assert INSTALL in scripts and REPO / "contrib/demo.sh" in scripts
    failures = []
    for script in scripts:
        # A pack script without #! gets its shell from the pack's interpreter,
        # /bin/sh in every pack here.
        dialect = [] if script.read_bytes().startswith(b"#!") else ["--shell=sh"]
        result = subprocess.run(["shellcheck", *dialect, str(script)], capture_output=True,
                                text=True, timeout=TIMEOUT_S)
        if result.returncode != 0:
            failures.append(result.stdout)
    assert failures == []


# ---------------------------------------------------------------- containers


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    joined, pending = [], ""
    for line in DOCKERFILE.read_text().splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        joined.append(pending + line)
        pending = ""
    return [(text.split(None, 1)[0].upper(), text.split(None, 1)[1].strip()) for text in joined]


def readme_runtime_libraries() -> list[str]:
    readme = (REPO / "README.md").read_text()
    sentence = re.search(r"links dynamically only against Debian's (.*?)and the C", readme, re.S)
    assert sentence, "README.md no longer lists the runtime libraries"
    return re.findall(r"`([a-z0-9.+-]+)`", sentence.group(1))


def test_dockerfile_builds_on_slim_debian_and_runs_as_non_root():
    steps = dockerfile_instructions()
    assert steps[0] == ("FROM", "debian:12-slim")
    users = [args for op, args in steps if op == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")


def test_dockerfile_installs_the_runtime_libraries_readme_lists():
    runs = " ".join(args for op, args in dockerfile_instructions() if op == "RUN")
    libraries = readme_runtime_libraries()
    assert len(libraries) >= 6
    for library in libraries:
        assert re.search(rf"(?<![\w-]){re.escape(library)}(?![\w-])", runs), library


def test_dockerfile_installs_this_version_through_install_sh():
    steps = dockerfile_instructions()
    args = dict(re.match(r"(\w+)=(\S+)", a).groups() for op, a in steps if op == "ARG")
    assert args["WARD_VERSION"] == source_version()
    copy = " ".join(a for op, a in steps if op == "COPY")
    assert "dist/install.sh" in copy
    assert "ward-${WARD_VERSION}-linux-${WARD_ARCH}.tar.gz.sha256" in copy
    runs = " ".join(a for op, a in steps if op == "RUN")
    assert re.search(r"sh \S+/install\.sh\s+--no-service\s+\S+\.tar\.gz", runs)
    assert ("STOPSIGNAL", "SIGTERM") in steps
    assert ("CMD", '["--config", "/etc/ward/config.yaml", "connect"]') in steps


def compose_block(key: str, text: str) -> str:
    """The lines indented under the first `key:` line (a block of a mapping)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == key + ":"
                 or line.strip().startswith(key + ": |"))
    indent = len(lines[start]) - len(lines[start].lstrip())
    block = []
    for line in lines[start + 1:]:
        if line.strip() and len(line) - len(line.lstrip()) <= indent:
            break
        block.append(line)
    return "\n".join(block)


def test_compose_runs_ward_beside_devcp_on_its_loopback():
    text = COMPOSE.read_text()
    services = compose_block("services", text)
    ward = compose_block("ward", services)
    devcp = compose_block("devcp", services)
    assert "dockerfile: contrib/Dockerfile" in ward and "context: .." in ward
    assert "network_mode: service:devcp" in ward
    assert "init: true" in ward
    grace = re.search(r"stop_grace_period: ([0-9]+)s", ward).group(1)
    assert int(grace) > drain_and_kill_grace_s()
    assert "./devcp:/devcp:ro" in devcp
    assert (COMPOSE.parent / "devcp" / "ward_devcp.py").is_file()
    script = (COMPOSE.parent / "devcp" / "ward_devcp.py").read_text()
    for flag in re.findall(r"ward_devcp\.py(.*)", devcp)[0].split():
        if flag.startswith("--"):
            assert f'"{flag}"' in script, flag


def test_compose_ward_config_loads(ward, tmp_path):
    config = tmp_path / "compose.yaml"
    block = compose_block("content", COMPOSE.read_text())
    config.write_text("\n".join(line[6:] for line in block.splitlines()) + "\n")
    config.chmod(0o600)
    assert "control_plane:" in config.read_text()
    result = subprocess.run(
        [ward, "--config", config, "--allow-writable", "pack", "validate", REPO / "packs"],
        capture_output=True, text=True, timeout=TIMEOUT_S,
    )
    assert result.returncode == 0, result.stdout + result.stderr
