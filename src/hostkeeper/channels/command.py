"""`type: command`: run an argv with {rule} {severity} {state} {summary} substituted.

Never a shell: each argv element is one argument, whatever the summary contains. Exit
status 75 (EX_TEMPFAIL, as sendmail uses it) or a timeout is transient and retried; any
other failure is permanent.
"""

from __future__ import annotations

from hostkeeper.adapters.commands import run_command
from hostkeeper.channels.base import Message, permanent, transient
from hostkeeper.config.alerts import CommandChannel

TYPE = "command"
CONFIG = CommandChannel

EX_TEMPFAIL = 75


def argv_for(channel: CommandChannel, message: Message) -> list[str]:
    values = {
        "{rule}": message.rule,
        "{severity}": message.severity,
        "{state}": message.state,
        "{summary}": message.summary,
        "{kind}": message.kind,
        "{host}": message.host,
        "{value}": "" if message.value is None else f"{message.value:g}",
        "{alert_id}": "" if message.alert_id is None else str(message.alert_id),
    }
    argv = []
    for part in channel.argv:
        for token, value in values.items():
            part = part.replace(token, value)
        argv.append(part)
    return argv


def send(channel: CommandChannel, message: Message) -> str:
    argv = argv_for(channel, message)
    environment = {
        "HOSTKEEPER_NOTIFICATION": message.kind,
        "HOSTKEEPER_RULE": message.rule,
        "HOSTKEEPER_SEVERITY": message.severity,
        "HOSTKEEPER_STATE": message.state,
        "HOSTKEEPER_SUMMARY": message.summary,
        "HOSTKEEPER_TEST": "1" if message.is_test else "0",
    }
    result = run_command(argv, env=environment, timeout=channel.timeout.total_seconds())
    if result.ok:
        return f"{argv[0]} exited 0"
    text = f"{argv[0]} {result.describe_failure()}"
    tail = result.output.strip().splitlines()[-1:] if result.output.strip() else []
    if tail:
        text += f": {tail[0][:200]}"
    if result.timed_out or result.returncode == EX_TEMPFAIL:
        raise transient(text)
    raise permanent(text)
