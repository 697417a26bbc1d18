#!/usr/bin/env python3
"""Reads devcp's JSON event lines on stdin and prints them for a person to read.

Used by contrib/demo.sh; any devcp output can be piped through it:

    .venv/bin/python contrib/devcp/ward_devcp.py --state-dir DIR | python3 contrib/devcp/show.py
"""

import json
import sys

# Longest output line shown whole; a longer one is cut with an ellipsis.
MAX_TEXT = 160


def short(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "…"


def describe(event: dict) -> str | None:
    """One readable line for an event, or None for events not worth showing."""
    kind = event.get("event")
    if kind == "listening":
        return f"== control plane listening on {event.get('url')}"
    if kind == "connected":
        return f"== runner {event.get('runner')} connected (session {event.get('session')})"
    if kind == "disconnected":
        return f"== runner {event.get('runner')} disconnected, close code {event.get('code')}"
    if kind == "rejected":
        return f"== upgrade refused with HTTP {event.get('status')}"
    message = event.get("message")
    if not isinstance(message, dict):
        return None
    kind_of = message.get("type")
    run = message.get("run")
    if kind == "sent":
        if kind_of == "run":
            args = " ".join(f"{k}={json.dumps(v)}" for k, v in (message.get("args") or {}).items())
            opts = " ".join(f"{k}={v}" for k, v in (message.get("options") or {}).items())
            extra = f" options: {opts}" if opts else ""
            return f"-> run {run}: {message.get('action')} {args}{extra}  (reason: {message.get('reason')})"
        if kind_of == "cancel":
            return f"-> cancel {run}"
        return None
    if kind_of == "hello":
        head = message.get("journal") or {}
        return (f"   hello: ward {message.get('version')}, {message.get('actions')} actions "
                f"advertised, journal head seq {head.get('seq')}")
    if kind_of == "run.accepted":
        return f"   {run} accepted: argv {json.dumps(message.get('argv'))}"
    if kind_of == "run.output":
        return "\n".join(f"   {run} {line.get('stream')}| {short(line.get('text', ''))}"
                         for line in message.get("lines", []))
    if kind_of == "run.dropped":
        return f"   {run} dropped {message.get('lines')} lines ({message.get('reason')})"
    if kind_of == "run.refused":
        errors = "; ".join(f"{e.get('field')}: {e.get('message')}" for e in message.get("errors", []))
        return f"   {run} REFUSED {message.get('code')}: {message.get('message')}" + (
            f" [{errors}]" if errors else "")
    if kind_of == "run.finished":
        head = message.get("journal") or {}
        timeout = ((message.get("options") or {}).get("timeout_s") or {})
        clamp = f", timeout_s {timeout.get('value')} (clamped by {timeout['clamped_by']})" \
            if timeout.get("clamped_by") else ""
        return (f"   {run} finished: {message.get('outcome')}, exit code {message.get('exit_code')}, "
                f"signal {message.get('signal')}, {message.get('duration_ms')} ms{clamp}; "
                f"journal seq {head.get('seq')}"
                + (" (replayed from the journal: not run again)" if message.get("replayed") else ""))
    if kind_of == "error":
        return f"   error from the runner: {message.get('code')}: {message.get('message')}"
    return None


def main() -> int:
    for line in sys.stdin:
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        text = describe(event)
        if text:
            print(text, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
