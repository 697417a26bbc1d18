"""Command lines parsed without a server: typing, the reason, and every refusal."""

import json

import pytest

import ward_devcp
from ward_devcp import CommandError, parse_command


def fixed_id() -> str:
    """The run id given to runs without --id."""
    return "r-test-1"


def run_message(line: str) -> dict:
    """The run message `line` sends."""
    return json.loads(parse_command(line, fixed_id).text)


@pytest.mark.parametrize(("word", "value"), [
    ("n=10", 10), ("n=-3", -3), ("n=007", 7), ("b=true", True), ("b=false", False),
    ("s=10.0", "10.0"), ("s=+1", "+1"), ("s=True", "True"), ("s=", ""), ("s=a=b", "a=b"),
])
def test_types_argument_and_option_values(word, value):
    message = run_message(f"run a {word} --opt {word} --reason r")
    name = word.partition("=")[0]
    assert message["args"] == {name: value}
    assert message["options"] == {name: value}


def test_reason_runs_to_the_next_flag():
    message = run_message("run a --reason why did ssh restart --id r-9 --opt lines=2")
    assert (message["reason"], message["run"]) == ("why did ssh restart", "r-9")


def test_quoted_reason_may_be_empty():
    assert run_message("run a --reason ''")["reason"] == ""


def test_run_without_id_gets_a_generated_one():
    command = parse_command("run a --reason r", fixed_id)
    assert (command.run, json.loads(command.text)["run"]) == ("r-test-1", "r-test-1")


def test_generated_ids_differ_between_processes():
    first, second = ward_devcp.run_id_generator(), ward_devcp.run_id_generator()
    assert first() != second()


@pytest.mark.parametrize("line", ["", "   ", "# a comment", "  # indented comment"])
def test_blank_and_comment_lines_are_no_command(line):
    assert parse_command(line, fixed_id) is None


@pytest.mark.parametrize(("line", "command"), [
    ("wait r-1", ward_devcp.Command("wait", run="r-1")),
    ("sleep 0.25", ward_devcp.Command("sleep", seconds=0.25)),
    ("drop", ward_devcp.Command("drop")),
    ("close 1000", ward_devcp.Command("close", code=1000)),
    ("close 4001 back soon", ward_devcp.Command("close", code=4001, reason="back soon")),
    ('{"type":"x"}\n', ward_devcp.Command("send", text='{"type":"x"}')),
    ("{oops", ward_devcp.Command("send", text="{oops")),
])
def test_parses_other_commands(line, command):
    assert parse_command(line, fixed_id) == command


@pytest.mark.parametrize(("line", "error"), [
    ("run", "run needs an action name"),
    ("run --reason r", "run needs an action name"),
    ("run a", "run needs --reason TEXT"),
    ("run a --reason", "--reason needs a text"),
    ("run a --reason --id r-1", "--reason needs a text"),
    ("run a x --reason r", "expected k=v, got 'x'"),
    ("run a =1 --reason r", "expected k=v, got '=1'"),
    ("run a --opt --reason r", "expected k=v, got '--reason'"),
    ("run a --reason r --id", "--id needs a value"),
    ("run a --reason r --id 'r 1'", "run id 'r 1' is not 1 to 128 of [A-Za-z0-9._:-]"),
    ("run a --reason r --id " + "r" * 129, "is not 1 to 128"),
    ("run a --raw-json '[1]' --reason r", "--raw-json must be a JSON object"),
    ("run a --raw-json '{' --reason r", "--raw-json is not JSON"),
    ("run a k=1 --raw-json '{}' --reason r", "--raw-json replaces the k=v arguments"),
    ("run a --force --reason r", "unknown run option '--force'"),
    ("run a --reason 'unterminated", "No closing quotation"),
    ("cancel", "cancel takes one run id"),
    ("cancel r-1 r-2", "cancel takes one run id"),
    ("ack", "ack takes one or more run ids"),
    ("wait", "wait takes one run id"),
    ("sleep soon", "sleep takes one number of seconds"),
    ("sleep -1", "sleep takes one number of seconds"),
    ("sleep inf", "sleep takes one number of seconds"),
    ("drop now", "drop takes no arguments"),
    ("close", "close takes a code and an optional reason"),
    ("close 1005", "close code 1005 cannot be sent"),
    ("close 1000 " + "x" * 124, "a close reason is at most 123 bytes"),
    ("frobnicate", "unknown command 'frobnicate'"),
])
def test_refuses_bad_commands(line, error):
    with pytest.raises(CommandError) as refused:
        parse_command(line, fixed_id)
    assert error in str(refused.value)


def test_deeply_nested_raw_line_is_printed_as_text_not_a_crash():
    deep = "[" * 100_000 + "]" * 100_000
    assert ward_devcp.sent_fields(deep) == {"text": deep}
    assert ward_devcp.parse_message(deep)[0] is None
