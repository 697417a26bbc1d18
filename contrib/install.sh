#!/bin/sh
# Installs ward from a release tarball, upgrades it, or removes it.
# docs/install.md describes every file this writes and why it has its owner
# and mode. Run as root:
#
#   install.sh [--root DIR] [--no-service] [--checksum FILE | --sha256 HEX] TARBALL|URL
#   install.sh --upgrade [...same options...] TARBALL|URL
#   install.sh --uninstall [--purge] [--root DIR]
#
# The tarball's SHA-256 is checked before anything is written. The config,
# the env file, the key file and the packs folder are created once and never
# overwritten; the journal is never touched except by --purge.
set -eu
# Folders made along the way are 0755 and copies keep their source's mode.
umask 022

prog=install.sh

# Where everything goes, relative to the root (see --root).
BIN=/usr/local/bin/ward
SHARE=/usr/local/share/ward
ETC=/etc/ward
STATE=/var/lib/ward
JOURNAL_DIR=/var/lib/ward/journal
UNIT=/usr/local/lib/systemd/system/ward.service
DROPINS=/etc/systemd/system/ward.service.d
PLIST=/Library/LaunchDaemons/ward.plist
MAC_LOG_DIR=/var/log/ward
LAUNCHD_LABEL=ward
# The one pack enabled on a fresh install; the others stay examples in SHARE.
DEFAULT_PACK=linux-core

usage() {
    cat <<EOF
Usage: $prog [OPTIONS] TARBALL|URL      install ward from a release tarball
       $prog --upgrade [OPTIONS] TARBALL|URL
       $prog --uninstall [--purge] [--root DIR]

  TARBALL           a local ward-VERSION-OS-ARCH.tar.gz; its checksum is read
                    from TARBALL.sha256 unless --checksum or --sha256 is given
  URL               https:// (or file://) address of the tarball; URL.sha256
                    is fetched beside it (needs curl)
  --checksum FILE   the sha256sum file to check the tarball against
  --sha256 HEX      the expected SHA-256, for example from the release notes
  --upgrade         replace an installed ward; keep config, packs and journal;
                    restart the service if it runs
  --uninstall       remove the service, binary and shared files; keep the
                    config, packs and journal
  --purge           with --uninstall: also remove /etc/ward, the journal and
                    the service user
  --no-service      install no systemd unit or launchd plist (containers)
  --root DIR        install under DIR instead of / (tests, image builds): no
                    running service manager is contacted
  -h, --help        show this help
EOF
}

say() { printf '%s: %s\n' "$prog" "$*"; }
die() { printf '%s: error: %s\n' "$prog" "$*" >&2; exit 1; }
usage_error() { printf '%s: %s (see --help)\n' "$prog" "$*" >&2; exit 2; }

mode=install
# Set when an upgrade replaced a file, so that only a real change restarts ward.
changed=no
purge=no
service=yes
root=/
checksum_file=
expected_sha=
source=

while [ $# -gt 0 ]; do
    case $1 in
        --upgrade) mode=upgrade ;;
        --uninstall) mode=uninstall ;;
        --purge) purge=yes ;;
        --no-service) service=no ;;
        --root | --checksum | --sha256)
            [ $# -ge 2 ] || usage_error "$1 needs a value"
            case $1 in
                --root) root=$2 ;;
                --checksum) checksum_file=$2 ;;
                --sha256) expected_sha=$2 ;;
            esac
            shift
            ;;
        -h | --help) usage; exit 0 ;;
        -*) usage_error "unknown option $1" ;;
        *)
            [ -z "$source" ] || usage_error "one tarball only (got $source and $1)"
            source=$1
            ;;
    esac
    shift
done

if [ "$mode" = uninstall ]; then
    [ -z "$source" ] || usage_error "--uninstall takes no tarball"
else
    [ "$purge" = no ] || usage_error "--purge goes with --uninstall"
    [ -n "$source" ] || usage_error "no tarball given"
    [ -z "$checksum_file" ] || [ -z "$expected_sha" ] ||
        usage_error "give --checksum or --sha256, not both"
fi
case $root in
    /*) ;;
    *) usage_error "--root needs an absolute path (got $root)" ;;
esac
root=${root%/}

[ "$(id -u)" = 0 ] || die "run as root: the files are owned by root and the service user"

case $(uname -s) in
    Linux) os=linux service_user=ward ;;
    Darwin) os=darwin service_user=_ward ;;
    *) die "unsupported system $(uname -s): ward runs on Linux (macOS is prepared, untested)" ;;
esac
arch=$(uname -m)
if [ "$os" = darwin ] && [ -n "$root" ]; then
    die "--root is supported on Linux only (macOS accounts live in Directory Services)"
fi

# $1 under the root being installed.
r() { printf '%s%s' "$root" "$1"; }

work=$(mktemp -d "${TMPDIR:-/tmp}/ward-install.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- checksum

sha256_of() {
    if command -v sha256sum >/dev/null 2>&1; then
        sha256sum <"$1" | cut -d ' ' -f 1
    elif command -v shasum >/dev/null 2>&1; then
        shasum -a 256 <"$1" | cut -d ' ' -f 1
    else
        die "neither sha256sum nor shasum is installed; cannot check the tarball"
    fi
}

fetch() { # URL DEST
    command -v curl >/dev/null 2>&1 || die "curl is needed to download $1"
    curl --fail --silent --show-error --location --proto '=https,file' \
        --proto-redir '=https' --output "$2" "$1" || die "cannot download $1"
}

# Leaves the verified tarball at $work/ward.tar.gz; writes nothing else.
obtain_tarball() {
    case $source in
        https://* | file://*)
            fetch "$source" "$work/ward.tar.gz"
            if [ -z "$expected_sha" ] && [ -z "$checksum_file" ]; then
                fetch "$source.sha256" "$work/ward.tar.gz.sha256"
                checksum_file=$work/ward.tar.gz.sha256
            fi
            ;;
        *://*)
            die "refusing $source: use an https:// URL, or download the tarball" \
                "and its .sha256 and give the local path"
            ;;
        *)
            [ -f "$source" ] || die "no such tarball: $source"
            cp "$source" "$work/ward.tar.gz"
            if [ -z "$expected_sha" ] && [ -z "$checksum_file" ]; then
                checksum_file=$source.sha256
            fi
            ;;
    esac
    if [ -z "$expected_sha" ]; then
        [ -f "$checksum_file" ] ||
            die "no checksum file $checksum_file (give --checksum FILE or --sha256 HEX)"
        expected_sha=$(awk 'NR == 1 { print $1 }' "$checksum_file")
    fi
    expected_sha=$(printf '%s' "$expected_sha" | tr 'A-F' 'a-f')
    case $expected_sha in
        *[!0-9a-f]* | '') die "the expected SHA-256 is not 64 hex digits: '$expected_sha'" ;;
    esac
    [ ${#expected_sha} -eq 64 ] || die "the expected SHA-256 is not 64 hex digits: '$expected_sha'"
    actual=$(sha256_of "$work/ward.tar.gz")
    if [ "$actual" != "$expected_sha" ]; then
        die "checksum mismatch for $source: expected $expected_sha, got $actual;" \
            "nothing was installed"
    fi
    say "checksum ok: $actual"
}

# Unpacks into $work/release and checks it is a ward release for this host.
unpack() {
    mkdir "$work/unpacked"
    tar -xzf "$work/ward.tar.gz" -C "$work/unpacked" || die "cannot unpack $source"
    set -- "$work/unpacked"/ward-*
    if [ $# -ne 1 ] || [ ! -f "$1/RELEASE" ] || [ ! -f "$1/bin/ward" ]; then
        die "$source is not a ward release (no single ward-*/ folder with RELEASE and bin/ward)"
    fi
    mv "$1" "$work/release"
    release=$work/release
    version=$(sed -n 's/^version=//p' "$release/RELEASE")
    rel_os=$(sed -n 's/^os=//p' "$release/RELEASE")
    rel_arch=$(sed -n 's/^arch=//p' "$release/RELEASE")
    [ "$rel_os-$rel_arch" = "$os-$arch" ] ||
        die "$source is built for $rel_os-$rel_arch; this host is $os-$arch"
    # What lands in SHARE: the release minus the binary, with fixed owners and
    # modes, so a second install finds it identical and writes nothing.
    mkdir "$work/share"
    for item in RELEASE install.sh README.md LICENSE.md docs etc packs; do
        cp -R "$release/$item" "$work/share/"
    done
    if [ "$os" = linux ]; then
        cp -R "$release/systemd" "$work/share/"
    else
        cp -R "$release/launchd" "$work/share/"
    fi
    chown -R 0:0 "$work/share"
    chmod -R u+rwX,go+rX,go-w "$work/share"
}

# ---------------------------------------------------------------- accounts

nologin_shell() {
    for shell in /usr/sbin/nologin /sbin/nologin /usr/bin/false /bin/false; do
        if [ -x "$(r "$shell")" ] || [ -x "$shell" ]; then
            printf '%s' "$shell"
            return
        fi
    done
    printf '/bin/false'
}

# The root's account files, which --root needs to find or create the account in.
check_account_files() {
    [ -n "$root" ] || return 0
    for db in passwd group; do
        [ -f "$(r "/etc/$db")" ] ||
            die "$root/etc/$db is missing: --root needs a root with its own accounts"
    done
}

# Field $2 of the $1 database entry (passwd, group) for the service account.
account_field() {
    if [ -n "$root" ]; then
        awk -F: -v name="$service_user" -v f="$2" '$1 == name { print $f; exit }' "$(r "/etc/$1")"
    elif [ "$os" = linux ]; then
        getent "$1" "$service_user" | cut -d : -f "$2"
    elif [ "$1" = passwd ]; then
        dscl . -read "/Users/$service_user" UniqueID 2>/dev/null | awk '{ print $2 }'
    else
        dscl . -read "/Groups/$service_user" PrimaryGroupID 2>/dev/null | awk '{ print $2 }'
    fi
}

# A free id below 500 (macOS keeps those for system accounts) in $1 (Users, Groups).
darwin_free_id() {
    attr=UniqueID
    [ "$1" = Groups ] && attr=PrimaryGroupID
    used=$(dscl . -list "/$1" "$attr" | awk '{ print $2 }')
    id=300
    while printf '%s\n' "$used" | grep -qx "$id"; do
        id=$((id + 1))
        [ "$id" -lt 500 ] || die "no free system id for $service_user below 500"
    done
    printf '%s' "$id"
}

# The unprivileged account the service runs as, with no login and no home of its own.
ensure_account() {
    check_account_files
    if [ -z "$(account_field group 3)" ]; then
        say "creating group $service_user"
        if [ "$os" = linux ]; then
            if [ -n "$root" ]; then
                groupadd --prefix "$root" --system "$service_user"
            else
                groupadd --system "$service_user"
            fi
        else
            gid=$(darwin_free_id Groups)
            dscl . -create "/Groups/$service_user"
            dscl . -create "/Groups/$service_user" PrimaryGroupID "$gid"
            dscl . -create "/Groups/$service_user" RealName "ward runner"
        fi
    fi
    if [ -z "$(account_field passwd 3)" ]; then
        say "creating user $service_user"
        if [ "$os" = linux ]; then
            set -- --system --gid "$service_user" --home-dir "$STATE" --no-create-home \
                --shell "$(nologin_shell)" --comment "ward runner" "$service_user"
            if [ -n "$root" ]; then
                useradd --prefix "$root" "$@"
            else
                useradd "$@"
            fi
        else
            uid=$(darwin_free_id Users)
            dscl . -create "/Users/$service_user"
            dscl . -create "/Users/$service_user" UniqueID "$uid"
            dscl . -create "/Users/$service_user" PrimaryGroupID "$(account_field group 3)"
            dscl . -create "/Users/$service_user" UserShell /usr/bin/false
            dscl . -create "/Users/$service_user" NFSHomeDirectory /var/empty
            dscl . -create "/Users/$service_user" RealName "ward runner"
            dscl . -create "/Users/$service_user" IsHidden 1
            dscl . -create "/Users/$service_user" Password '*'
        fi
    fi
    uid=$(account_field passwd 3)
    gid=$(account_field group 3)
    if [ -z "$uid" ] || [ -z "$gid" ]; then
        die "cannot find the $service_user account after creating it"
    fi
}

remove_account() {
    check_account_files
    [ -n "$(account_field passwd 3)" ] || [ -n "$(account_field group 3)" ] || return 0
    say "removing user and group $service_user"
    if [ "$os" = linux ]; then
        if [ -n "$root" ]; then
            [ -z "$(account_field passwd 3)" ] || userdel --prefix "$root" "$service_user"
            [ -z "$(account_field group 3)" ] || groupdel --prefix "$root" "$service_user"
        else
            [ -z "$(account_field passwd 3)" ] || userdel "$service_user"
            [ -z "$(account_field group 3)" ] || groupdel "$service_user"
        fi
    else
        dscl . -delete "/Users/$service_user" 2>/dev/null || true
        dscl . -delete "/Groups/$service_user" 2>/dev/null || true
    fi
}

# ---------------------------------------------------------------- files

# A system folder such as /usr/local/bin: created when missing (in a fresh
# --root), never changed when it exists.
parent_dir() {
    [ -d "$(r "$1")" ] || mkdir -p "$(r "$1")"
}

# A folder of ward's with exactly this owner and mode (created when missing).
ensure_dir() { # PATH OWNER:GROUP MODE
    [ -d "$(r "$1")" ] || mkdir -p "$(r "$1")"
    chown "$2" "$(r "$1")"
    chmod "$3" "$(r "$1")"
}

# Replaces PATH with SRC when their bytes differ, atomically (a temporary file
# in the same folder, then rename), so a running ward never sees half a file.
replace_file() { # SRC PATH OWNER:GROUP MODE
    dest=$(r "$2")
    if [ -f "$dest" ] && cmp -s "$1" "$dest"; then
        chown "$3" "$dest"
        chmod "$4" "$dest"
        return 0
    fi
    mkdir -p "$(dirname "$dest")"
    cp "$1" "$dest.new.$$"
    chown "$3" "$dest.new.$$"
    chmod "$4" "$dest.new.$$"
    mv -f "$dest.new.$$" "$dest"
    changed=yes
    say "installed $2"
}

# Creates PATH from SRC only when PATH does not exist: an operator's file wins.
create_once() { # SRC PATH OWNER:GROUP MODE
    dest=$(r "$2")
    if [ -e "$dest" ]; then
        say "kept $2 (exists)"
        return 0
    fi
    cp "$1" "$dest.new.$$"
    chown "$3" "$dest.new.$$"
    chmod "$4" "$dest.new.$$"
    mv "$dest.new.$$" "$dest"
    say "created $2"
}

# Replaces the folder PATH with SRC when their contents differ.
replace_tree() { # SRC PATH
    dest=$(r "$2")
    if [ -d "$dest" ] && diff -r "$1" "$dest" >/dev/null 2>&1; then
        return 0
    fi
    rm -rf "$dest.new.$$"
    mkdir -p "$(dirname "$dest")"
    cp -R "$1" "$dest.new.$$"
    rm -rf "$dest"
    mv "$dest.new.$$" "$dest"
    changed=yes
    say "installed $2/"
}

# ---------------------------------------------------------------- services

systemd_running() { [ -z "$root" ] && [ -d /run/systemd/system ]; }

systemctl_root() {
    if [ -n "$root" ]; then
        systemctl --root="$root" "$@"
    else
        systemctl "$@"
    fi
}

install_systemd_unit() {
    command -v systemctl >/dev/null 2>&1 ||
        die "systemctl not found: install with --no-service on a host without systemd"
    before=$(cat "$(r "$UNIT")" 2>/dev/null || true)
    replace_file "$work/share/systemd/ward.service" "$UNIT" 0:0 0644
    after=$(cat "$(r "$UNIT")")
    if systemd_running && [ "$before" != "$after" ]; then
        systemctl daemon-reload
    fi
    # An upgrade leaves a unit the operator disabled alone.
    if [ "$mode" = install ] && ! systemctl_root is-enabled --quiet ward.service 2>/dev/null; then
        systemctl_root enable --quiet ward.service
        say "enabled ward.service"
    fi
    if [ "$mode" = upgrade ] && [ "$changed" = yes ] && systemd_running; then
        # Restarts only a running ward; a stopped one stays stopped.
        systemctl try-restart ward.service ||
            die "ward $version is installed but did not restart: see journalctl -u ward"
        say "restarted ward.service if it was running"
    fi
}

install_launchd_plist() {
    replace_file "$work/share/launchd/ward.plist" "$PLIST" 0:0 0644
    ensure_dir "$MAC_LOG_DIR" "$uid:$gid" 0750
    if [ "$mode" = upgrade ] && [ "$changed" = yes ] &&
        launchctl print "system/$LAUNCHD_LABEL" >/dev/null 2>&1; then
        launchctl kickstart -k "system/$LAUNCHD_LABEL" ||
            die "ward $version is installed but did not restart: see $MAC_LOG_DIR/ward.log"
        say "restarted $LAUNCHD_LABEL"
    fi
}

remove_service() {
    if [ "$os" = linux ]; then
        if [ -f "$(r "$UNIT")" ] && command -v systemctl >/dev/null 2>&1; then
            if systemd_running; then
                systemctl disable --now --quiet ward.service || true
            else
                systemctl_root disable --quiet ward.service || true
            fi
        fi
        if [ -f "$(r "$UNIT")" ]; then
            rm -f "$(r "$UNIT")"
            say "removed $UNIT"
            if systemd_running; then systemctl daemon-reload; fi
        fi
    else
        if [ -z "$root" ]; then
            launchctl bootout "system/$LAUNCHD_LABEL" 2>/dev/null || true
        fi
        if [ -f "$(r "$PLIST")" ]; then
            rm -f "$(r "$PLIST")"
            say "removed $PLIST"
        fi
    fi
}

# ---------------------------------------------------------------- modes

do_install() {
    obtain_tarball
    unpack

    installed=$(sed -n 's/^version=//p' "$(r "$SHARE")/RELEASE" 2>/dev/null || true)
    if [ "$mode" = install ] && [ -f "$(r "$BIN")" ] &&
        ! cmp -s "$release/bin/ward" "$(r "$BIN")"; then
        die "ward ${installed:-(unknown version)} is already installed at $BIN;" \
            "use --upgrade to replace it with $version"
    fi
    if [ "$mode" = upgrade ] && [ ! -f "$(r "$BIN")" ]; then
        die "ward is not installed at $BIN; run without --upgrade"
    fi

    ensure_account

    # Config: root's, readable by the service group. ward refuses config and
    # pack files that anyone but root could change.
    parent_dir /etc
    ensure_dir "$ETC" "0:$gid" 0750
    config_src=$work/share/etc/config.yaml
    if [ "$os" = darwin ]; then
        # launchd cannot pass a credential: ward reads the key file itself.
        sed 's|^  # key_file: |  key_file: |' "$config_src" >"$work/config.yaml"
        config_src=$work/config.yaml
    fi
    create_once "$config_src" "$ETC/config.yaml" "0:$gid" 0640
    create_once "$work/share/etc/runner.env" "$ETC/runner.env" 0:0 0600
    # The key: empty until the operator writes it. On Linux systemd reads it as
    # root and hands ward a copy; on macOS ward reads it, so _ward owns it.
    : >"$work/runner.key"
    if [ "$os" = linux ]; then
        create_once "$work/runner.key" "$ETC/runner.key" 0:0 0600
    else
        create_once "$work/runner.key" "$ETC/runner.key" "$uid:$gid" 0600
    fi
    if [ ! -e "$(r "$ETC/packs")" ]; then
        ensure_dir "$ETC/packs" 0:0 0755
        cp -R "$work/share/packs/$DEFAULT_PACK" "$(r "$ETC/packs/")"
        say "created $ETC/packs/$DEFAULT_PACK"
    else
        say "kept $ETC/packs (exists)"
    fi

    # State: the service user's alone.
    parent_dir "$(dirname "$STATE")"
    ensure_dir "$STATE" "$uid:$gid" 0700
    ensure_dir "$JOURNAL_DIR" "$uid:$gid" 0700

    parent_dir "$(dirname "$SHARE")"
    replace_tree "$work/share" "$SHARE"
    parent_dir "$(dirname "$BIN")"
    replace_file "$release/bin/ward" "$BIN" 0:0 0755

    if [ "$service" = yes ]; then
        if [ "$os" = linux ]; then install_systemd_unit; else install_launchd_plist; fi
    fi

    say "ward $version is installed"
    if [ "$mode" = install ] && [ ! -s "$(r "$ETC/runner.key")" ]; then
        say "next: set control_plane.url in $ETC/config.yaml and write the runner key"
        say "      to $ETC/runner.key,"
        if [ "$os" = linux ]; then
            say "      then: systemctl start ward"
        else
            say "      then: launchctl bootstrap system $PLIST"
        fi
    fi
}

do_uninstall() {
    remove_service
    for path in "$BIN" "$SHARE"; do
        if [ -e "$(r "$path")" ]; then
            rm -rf "$(r "$path")"
            say "removed $path"
        fi
    done
    if [ "$purge" = yes ]; then
        for path in "$ETC" "$STATE" "$DROPINS" "$MAC_LOG_DIR"; do
            if [ -e "$(r "$path")" ]; then
                rm -rf "$(r "$path")"
                say "removed $path"
            fi
        done
        remove_account
        say "ward is removed, with its config, packs and journal"
    else
        say "ward is removed; kept $ETC (config, key, packs) and $STATE (journal);"
        say "--purge removes them"
    fi
}

case $mode in
    install | upgrade) do_install ;;
    uninstall) do_uninstall ;;
esac
