/// The `--help` text of every command. Kept together so they read as one manual.
enum Help {
    static let main = """
        ward: run declared operational actions on this host, validated, redacted and journaled.

        Usage: ward [GLOBAL OPTIONS] COMMAND [ARGS]

        Commands:
          pack validate DIR...   Check action packs; list every error with file:line:column.
          state                  Print the runner's identity, packs and every action's schema (JSON).
          action list            List the declared actions, one line each.
          action run NAME        Run one declared action through the full pipeline.
          action plan NAME       Show exactly what a run would execute, without running it.
          connect                Run as the daemon: dial the control plane, run what it asks.
          events tail            Print the newest journal events.
          events verify          Check the journal's hash chain.
          mcp                    Serve the declared actions as MCP tools on stdin/stdout.
          doctor                 Check this host: config, packs, programs, journal, control plane.
          redact                 Redact standard input with the configured rules, to stdout.
          version                Print ward's version.
          help [COMMAND]         Show help for a command.

        Global options:
          --config FILE          Config file (default: $WARD_CONFIG, else /etc/ward/config.yaml).
          --allow-writable       Accept config and pack files this user could rewrite.
                                 For development checkouts only: in production an action
                                 could otherwise rewrite the packs that govern it.
          --log-level LEVEL      debug, info, warn or error (overrides the config).
          --log-format FORMAT    logfmt or json (overrides the config).
          -h, --help             Show help.
          --version              Print ward's version.

        Exit codes: 0 ok, 1 check failed or action exited non-zero, 2 usage, 3 config or
        packs invalid, 4 run refused, 5 run timed out/cancelled/failed to start,
        6 journal error, 70 internal error.
        """

    static let redact = """
        Usage: ward redact [--action NAME] [--no-config] < INPUT > OUTPUT

        Reads standard input to its end and writes it to standard output through the
        same line splitting and redaction a run's output gets: the built-in rules and
        the config's redaction rules, plus the pack's and action's own rules with
        --action. Line endings are kept, so only the redacted stretches differ from
        the input (and bytes that are not UTF-8, shown as U+FFFD as on the wire).
        Use it to try rules on a real log sample before a pack ships.
        Secrets that belong to one run (secret arguments, the runner key) are not
        known here. A summary line (lines, redactions) goes to stderr.

        Options:
          --action NAME   Also apply the rules declared by this action and its pack.
          --no-config     Built-in rules only; read no config file.

        Exit codes: 0 done, 1 read or write failed (quietly when the reader of
        stdout went away, as with `| head`), 2 usage, 3 config or packs invalid.
        """

    static let connect = """
        Usage: ward [--config FILE] connect

        The daemon. Dials the control plane named in the config's control_plane section
        (wss://, TLS 1.2 or newer, server certificate and host name verified), sends the
        runner's identity, packs, every action's schema and the journal's chain head, then
        runs each request it receives through the same pipeline as `ward action run`,
        streaming redacted output back. It never listens on any port. A lost connection is
        dialled again with exponential backoff and full jitter.

        The runner key comes from control_plane.key_file (mode 0600), else the systemd
        credential ward-key, else WARD_AUTH_KEY (development). Logs go to stderr, one
        structured line per event, at the config's log level unless --log-level says
        otherwise.

        Signals:
          SIGTERM, SIGINT   Stop taking runs, let running ones finish for
                            control_plane.drain_grace_ms (then cancel them), send their
                            results, close the connection with 1001 and exit 0. A second
                            signal cancels the runs at once.
          SIGHUP            Reload the packs; if any pack fails to validate, keep the old
                            set and log why. The new set is advertised.

        Exit codes: 0 stopped on a signal, 2 usage, 3 config, packs, key or TLS settings
        invalid, 6 journal error, 70 internal error.
        """

    static let packValidate = """
        Usage: ward pack validate [--json] DIR...

        Loads every pack under each DIR (a pack folder, or a folder of pack folders) with the
        same strictness as the runner and prints every error and warning as
        file:line:column: severity: message. Ceilings come from --config when one is given.

        Options:
          --json      Print the diagnostics as a JSON document.

        Exit codes: 0 every pack is valid (warnings allowed), 1 errors were found, 2 usage.
        """

    static let state = """
        Usage: ward state [--compact]

        Prints, as JSON, exactly what the runner advertises to a control plane: its identity,
        version, limits, the loaded packs with their digests, and every action's full schema.

        Options:
          --compact   One line instead of indented JSON.

        Exit codes: 0 ok, 3 config or packs invalid.
        """

    static let actionPlan = """
        Usage: ward action plan NAME --reason TEXT [--arg NAME=VALUE]... [--opt NAME=VALUE]...
                                [--json]

        A dry run: the whole pipeline of `ward action run` up to, but not including,
        execution. Validates every argument against the declared schema, clamps the
        options, expands the argv, environment and working directory, and prints them:
        each argv element on its own line in JSON quotes, secret values as
        [REDACTED:arg.NAME] markers, each clamped option with the bound that clamped it.
        A refusal is printed exactly as the run would get it. Nothing is executed; one
        `planned` event is journaled. A later run of the same request executes the
        same argv.

        Options:
          --arg NAME=VALUE    An argument, typed by the schema. Repeatable.
          --opt NAME=VALUE    A requested option (timeout_s, ...). Repeatable.
          --reason TEXT       Why; journaled with the plan. Required.
          --json              Print the plan (or the refusal) as JSON.

        Exit codes: 0 planned, 2 usage, 3 config or packs invalid, 4 refused,
        6 journal error.
        """

    static let actionList = """
        Usage: ward action list

        Lists every declared action with its pack and description.

        Exit codes: 0 ok, 3 config or packs invalid.
        """

    static let actionRun = """
        Usage: ward action run NAME --reason TEXT [--arg NAME=VALUE]... [--opt NAME=VALUE]...
                               [--stream] [--json] [--run-id ID]

        Validates the arguments against the action's schema, clamps the options into the
        action's bounds, journals the attempt, runs the child with an argv array (no shell),
        redacts its output and journals the outcome. Values are typed by the schema:
        integers as -?(0|[1-9][0-9]*), booleans as true or false.

        Options:
          --reason TEXT       Why the action is run (required; journaled).
          --arg NAME=VALUE    An argument (repeatable).
          --opt NAME=VALUE    An option such as timeout_s=10 (repeatable); clamped into bounds.
          --stream            Print each line as it arrives, labelled with its stream.
                              Without it, output is printed when the run ends.
          --json              Print one JSON document with the lines and the result.
          --run-id ID         Use this run id instead of a random one. An id the journal
                              already holds is refused (exit 4), never run again.

        Exit codes: 0 the action exited 0, 1 it exited non-zero, 3 config or packs invalid,
        4 refused (nothing ran), 5 timed out, cancelled or failed to start, 6 journal error.
        """

    static let mcp = """
        Usage: ward mcp

        Runs a Model Context Protocol server on stdin and stdout for a coding agent
        (Claude Code, Cursor, any MCP client), which starts ward itself; see docs/mcp.md.
        Every declared action is one tool (dots in its name become underscores). A call
        goes through the same pipeline as `ward action run`: its arguments are checked
        against the schema, its options clamped, the run journaled with origin mcp and the
        client's name as requester, and its output redacted. stdout carries only protocol
        messages; logs go to stderr. Closing stdin stops the runs in flight and ends ward.

        Exit codes: 0 the client closed the session, 2 usage (stdin or stdout is not a
        pipe), 3 config or packs invalid, 6 journal error.
        """

    static let eventsTail = """
        Usage: ward events tail [--lines N] [--follow]

        Prints the newest journal events as stored (one JSON object per line).

        Options:
          --lines N   How many events (default 10).
          --follow    Keep printing events as they are appended, across rotation,
                      until interrupted.

        Exit codes: 0 ok, 6 journal error.
        """

    static let eventsVerify = """
        Usage: ward events verify [--anchor SEQ:HASH] [--json]

        Checks the journal's hash chain across every retained file: each line's prev must
        be the SHA-256 of the previous line's bytes and seq must increase by one. Reports
        the first bad file and line and whether a line was edited, deleted, reordered,
        malformed or torn.

        Options:
          --anchor SEQ:HASH   Also require event SEQ to have hash HASH (for example the
                              chain head a control plane recorded). The only way to
                              detect deletion or an edit of the newest events: the last
                              line has no successor whose prev could expose it.
          --json              Print the report as JSON.

        Exit codes: 0 the chain holds, 1 it does not, 6 the journal cannot be read.
        """

    static let doctor = """
        Usage: ward [--config FILE] doctor [--json] [--offline]

        Checks that this host can run ward as configured and prints one line a check,
        each ending pass, warn, fail or skip, with what to do for every warning and
        failure (docs/doctor.md):
          config                 the config loads
          packs                  every pack validates (each error listed)
          executables            every program, interpreter and script an action starts
                                 exists and is executable; a missing one warns, naming
                                 the actions it affects
          journal directory      the journal's folder exists or can be created, is
                                 writable, and is not group- or world-writable
          journal                the journal's hash chain verifies
          auth key               a runner key is found (its source named, never its value)
          tls trust              the CA bundle or pinned CA loads
          control plane address  the control plane's host resolves
          control plane tls      a TLS handshake with it (certificate and host name
                                 verified) completes within 5 s
          service unit           the installed unit's ExecStart names an existing ward
          service user           the unit's User exists
        The control plane checks skip without a control_plane section, the service
        checks without /usr/local/lib/systemd/system/ward.service.

        Options:
          --json      Print {"checks": [{name, status, detail, fix?, items?}], "summary"}.
          --offline   Skip the checks that use the network.

        Exit codes: 0 nothing failed (warnings and skips allowed), 1 a check failed,
        2 usage.
        """

    static let version = """
        Usage: ward version [--json]

        Prints ward's version.

        Exit codes: 0.
        """
}
