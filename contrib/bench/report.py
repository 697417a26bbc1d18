"""The benchmark's table (Markdown) and chart (PNG) from bench.py's results.

Usage: report.py RESULTS.json [CHART.png]   redraws both from a saved run."""

import json
import sys


def f(s, digits=0, scale=1.0):
    """median (min-max) of a summary."""
    m, lo, hi = (s[k] * scale for k in ("median", "min", "max"))
    return f"{m:.{digits}f} ({lo:.{digits}f}-{hi:.{digits}f})"


def table(r):
    rows = ["| measurement | median (min-max) | target | met |", "|---|---|---|---|"]

    def row(name, value, target="", met=""):
        rows.append(f"| {name} | {value} | {target} | {met} |")

    yes = lambda ok: "yes" if ok else "**no**"  # noqa: E731
    if "sink_ceiling" in r:
        c = r["sink_ceiling"]
        row("sink ceiling, wire MB/s (TLS flood client on the same 2 cores)", f(c["wire_mb_s"]))
        row("sink CPU s per GiB of wire bytes", f(c["sink_cpu_s_per_gib_wire"], 2))
    if "throughput" in r:
        t = r["throughput"]
        for k, label in (("raw_pipe", "raw pipe (cat \\| cat)"),
                         ("ssh_default", "ssh -T, default cipher (chacha20-poly1305)"),
                         ("ssh_aes128_gcm", "ssh -T, aes128-gcm"),
                         ("ward", "ward connect, default redaction, TLS")):
            row(f"throughput MB/s: {label}", f(t["mb_s"][k]))
        for k, label in (("raw_pipe", "raw pipe"), ("ssh_default", "ssh default (both ends)"),
                         ("ssh_aes128_gcm", "ssh aes128-gcm (both ends)"),
                         ("ward", "ward (with its child)"),
                         ("ward_plus_sink", "ward + sink")):
            row(f"CPU s per GiB: {label}", f(t["cpu_s_per_gib"][k], 2))
        ra = t["ratio"]
        row("ratio ward / ssh default (pair by pair)", f(ra["ward_over_ssh_default"], 2),
            ">= 1.0", yes(ra["ward_over_ssh_default"]["median"] >= 1.0))
        row("ratio ward / ssh aes128-gcm", f(ra["ward_over_ssh_aes128_gcm"], 2))
        row("ratio ward / raw pipe", f(ra["ward_over_raw_pipe"], 2), ">= 0.60",
            yes(ra["ward_over_raw_pipe"]["median"] >= 0.6))
    if "redaction_local" in r:
        x = r["redaction_local"]
        if "stage_default" in x["mb_s"]:
            row("redaction stage MB/s, default rules (ward redact: split+redact+write)",
                f(x["mb_s"]["stage_default"]))
            row("redaction stage MB/s, default + 20 extra rules",
                f(x["mb_s"]["stage_extra20"]))
        row("ward action run MB/s, default rules (split+redact+print, no TLS)",
            f(x["mb_s"]["default"]))
        row("ward action run MB/s, default + 20 extra rules", f(x["mb_s"]["extra20"]))
    if "dispatch" in r:
        d = r["dispatch"]
        row(f"dispatch /bin/true p50 ms ({d['runs']} sequential)", f(d["ward_p50"], 2), "< 2",
            yes(d["ward_p50"]["median"] < 2))
        row("dispatch /bin/true p99 ms", f(d["ward_p99"], 2))
        row("dispatch runs/s, 16 in flight", f(d["ward_parallel_runs_s"]))
        row(f"ssh true, fresh connection p50 ms ({d['ssh_fresh_runs']} runs)",
            f(d["ssh_fresh_p50"], 1))
        row("ssh true, fresh connection p99 ms", f(d["ssh_fresh_p99"], 1))
        row(f"ssh true, ControlMaster p50 ms ({d['ssh_mux_runs']} runs)", f(d["ssh_mux_p50"], 2))
        row("ssh true, ControlMaster p99 ms", f(d["ssh_mux_p99"], 2))
        ra = d["ratio"]
        row("ratio ssh fresh p50 / ward p50", f(ra["ssh_fresh_over_ward_p50"], 1), ">= 10",
            yes(ra["ssh_fresh_over_ward_p50"]["median"] >= 10))
        row("ratio ssh ControlMaster p50 / ward p50", f(ra["ssh_mux_over_ward_p50"], 1))
    if "memory_kib" in r:
        m = r["memory_kib"]
        mb = 1 / 1024
        row("RSS MiB: ward connect idle, example packs", f(m["ward_idle"], 1, mb), "< 9",
            yes(m["ward_idle"]["median"] < 9 * 1024))
        row("RSS MiB: ward connect idle, no packs", f(m["ward_idle_no_packs"], 1, mb))
        row("RSS MiB: ward, no packs, system CA store", f(m["ward_idle_system_ca_store_no_packs"],
                                                          1, mb))
        row(f"peak RSS MiB: 1 GiB to a consumer reading {m['slow_consumer_mb_s']:.0f} MB/s",
            f(m["ward_slow_consumer_peak"], 1, mb), "< 16",
            yes(m["ward_slow_consumer_peak"]["median"] < 16 * 1024))
        row("RSS MiB in the stream's first tenth / last tenth",
            f"{m['ward_slow_consumer_first_tenth']['median'] * mb:.1f} / "
            f"{m['ward_slow_consumer_last_tenth']['median'] * mb:.1f}", "flat",
            yes(m["ward_slow_consumer_last_tenth"]["median"]
                <= m["ward_slow_consumer_first_tenth"]["median"] * 1.05 + 256))
        row("peak RSS MiB: 16 concurrent streams of 64 MiB", f(m["ward_16_streams_peak"], 1, mb))
        if "ward_idle_pss" in m:
            row("PSS MiB: ward connect idle / idle sshd (listener)",
                f"{f(m['ward_idle_pss'], 1, mb)} / {f(m['sshd_listener_pss'], 1, mb)}")
            row("private dirty MiB: ward connect idle / idle sshd (listener)",
                f"{f(m['ward_idle_private_dirty'], 1, mb)} / "
                f"{f(m['sshd_listener_private_dirty'], 1, mb)}")
        row("RSS MiB: idle sshd (listener)", f(m["sshd_listener"], 1, mb))
        row(f"RSS MiB: one sshd session ({m['sshd_session_processes']} processes)",
            f(m["sshd_session"], 1, mb))
    if "startup_ms" in r:
        s = r["startup_ms"]
        row("ward state ms, example packs", f(s["example_packs"], 1))
        row("ward state ms, 1,000 generated actions", f(s["generated_1000"], 1))
    return "\n".join(rows)


def update_doc(path, table, machine):
    """Replaces the table and machine sections of docs/benchmarks.md, between
    their <!-- bench:NAME --> and <!-- /bench:NAME --> markers."""
    if not path.exists():
        return
    text = path.read_text()
    m = machine
    about = (f"- CPU: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB; Linux {m['kernel']}, "
             f"Debian {m['os']}\n- {m['ward']}; {m['openssh']}; {m['openssl']}\n"
             f"- {m['reps']} repetitions; run {m['date']}")
    for name, body in (("table", table), ("machine", about)):
        start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
        if start in text and end in text:
            head, rest = text.split(start, 1)
            text = head + start + "\n" + body + "\n" + end + rest.split(end, 1)[1]
    path.write_text(text)


def chart(r, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))

    def bars(ax, labels, sums, title, unit, colors):
        meds = [s["median"] for s in sums]
        err = [[m - s["min"] for m, s in zip(meds, sums)], [s["max"] - m for m, s in
                                                             zip(meds, sums)]]
        ax.bar(labels, meds, yerr=err, capsize=4, color=colors)
        for i, m in enumerate(meds):
            ax.text(i, m, f"{m:.0f}" if m >= 20 else f"{m:.1f}", ha="center", va="bottom")
        ax.set_title(title)
        ax.set_ylabel(unit)
        ax.tick_params(axis="x", labelsize=8)

    if "throughput" in r:
        t = r["throughput"]["mb_s"]
        bars(axes[0], ["raw pipe", "ssh\nchacha20", "ssh\naes128-gcm", "ward\n(redacted, TLS)"],
             [t["raw_pipe"], t["ssh_default"], t["ssh_aes128_gcm"], t["ward"]],
             "Streaming 1 GiB of log lines (median, min-max)", "MB/s",
             ["#999", "#c66", "#d99", "#369"])
    if "memory_kib" in r:
        m = r["memory_kib"]
        mib = lambda s: {k: s[k] / 1024 for k in ("median", "min", "max")}  # noqa: E731
        bars(axes[1], ["ward idle", "ward 1 GiB\nslow reader", "ward 16\nstreams",
                       "sshd idle", "sshd one\nsession"],
             [mib(m["ward_idle"]), mib(m["ward_slow_consumer_peak"]),
              mib(m["ward_16_streams_peak"]), mib(m["sshd_listener"]), mib(m["sshd_session"])],
             "Resident memory (peak where streaming)", "MiB",
             ["#369", "#369", "#369", "#c66", "#c66"])
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    results = json.load(open(sys.argv[1]))
    print(table(results))
    if len(sys.argv) > 2:
        chart(results, sys.argv[2])
