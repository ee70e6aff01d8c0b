"""Every class of bad input is reported as `FILE:LINE: key.path: message`."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from hostkeeper.config import ConfigError, load_config, parse_config
from hostkeeper.config.issues import format_location

FILE = "hk.yaml"


def _issues(text: str) -> list[tuple[int | None, str, str]]:
    """(line, key path, message) of every problem in `text`, which must be invalid."""
    with pytest.raises(ConfigError) as caught:
        parse_config(textwrap.dedent(text), FILE)
    return [
        (issue.line, format_location(issue.location), issue.message)
        for issue in caught.value.issues
    ]


def _single(text: str) -> tuple[int | None, str, str]:
    issues = _issues(text)
    assert len(issues) == 1, issues
    return issues[0]


def _procedure(steps: str, extra: str = "") -> str:
    """A procedure `p` whose `steps:` block starts on line 5."""
    return (
        "version: 1\n"
        "procedures:\n"
        "  p:\n"
        "    schedule: {hour: 2}\n"
        "    steps:\n" + textwrap.indent(textwrap.dedent(steps), "      ") + extra
    )


def test_issue_prints_as_file_line_key_path_message() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config("version: 1\ndaemon:\n  watchdog: true\n  colour: red\n", FILE)
    assert str(caught.value.issues[0]) == "hk.yaml:4: daemon.colour: unknown key (not allowed here)"


def test_load_config_names_the_file_it_read(tmp_path: Path) -> None:
    path = tmp_path / "hostkeeper.yaml"
    path.write_text("version: 1\nbogus: true\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value.issues[0]) == f"{path}:2: bogus: unknown key (not allowed here)"


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "absent.yaml")


def test_unknown_top_level_key() -> None:
    assert _single("version: 1\nbogus: 3\n") == (2, "bogus", "unknown key (not allowed here)")


def test_unknown_nested_key() -> None:
    text = """\
        version: 1
        checks:
          - name: load
            type: load
            warning: 1
            critical: 2
            colour: red
        """
    assert _single(text) == (7, "checks[0].colour", "unknown key (not allowed here)")


def test_unknown_key_in_a_schedule() -> None:
    text = """\
        procedures:
          p:
            schedule:
              hour: 2
              dayofweek: mon
            steps: [health_check]
        """
    assert _single(text)[:2] == (5, "procedures.p.schedule.dayofweek")


def test_wrong_type() -> None:
    line, key, message = _single("version: 1\ndaemon:\n  watchdog: [1]\n")
    assert (line, key) == (3, "daemon.watchdog")
    assert "boolean" in message


def test_bad_duration() -> None:
    line, key, message = _single("daemon:\n  shutdown_timeout: soon\n")
    assert (line, key) == (2, "daemon.shutdown_timeout")
    assert "'soon' is not a duration" in message


def test_huge_duration_is_reported_not_raised() -> None:
    line, key, message = _single("daemon:\n  shutdown_timeout: .inf\n")
    assert (line, key) == (2, "daemon.shutdown_timeout")
    assert "not a usable duration" in message


def test_bad_duration_behind_the_for_alias() -> None:
    text = """\
        alerts:
          rules:
            - name: r
              when: health_score < 50
              for: 5 minutes
        """
    assert _single(text)[:2] == (5, "alerts.rules[0].for")


def test_bad_duration_behind_the_5m_retention_alias() -> None:
    assert _single("metrics:\n  retention:\n    5m: forever\n")[:2] == (3, "metrics.retention.5m")


def test_bad_size() -> None:
    text = """\
        logs:
          - name: app
            paths: [/var/log/app.log]
            max_size: huge
        """
    line, key, message = _single(text)
    assert (line, key) == (4, "logs[0].max_size")
    assert "is not a size" in message


def test_bad_percentage() -> None:
    text = """\
        checks:
          - name: root
            type: disk_free
            path: /
            warning: 200%
            critical: 10%
        """
    line, key, message = _single(text)
    assert (line, key) == (5, "checks[0].warning")
    assert "between 0% and 100%" in message


def test_percentage_without_percent_sign_in_a_string_is_rejected() -> None:
    text = """\
        checks:
          - name: root
            type: disk_free
            path: /
            warning: "20"
            critical: 10%
        """
    assert _single(text)[:2] == (5, "checks[0].warning")


def test_missing_required_key_points_at_its_section() -> None:
    text = """\
        checks:
          - name: root
            type: disk_free
            path: /
            critical: 10%
        """
    assert _single(text) == (2, "checks[0].warning", "required key is missing")


def test_missing_schedule() -> None:
    text = """\
        procedures:
          p:
            steps: [health_check]
        """
    assert _single(text) == (2, "procedures.p.schedule", "required key is missing")


def test_unknown_step_name() -> None:
    line, key, message = _single(_procedure("- health_check\n- frobnicate\n"))
    assert (line, key) == (7, "procedures.p.steps[1]")
    assert message.startswith("unknown step 'frobnicate'; known steps:")


def test_report_name_not_in_the_list() -> None:
    line, key, message = _single(_procedure("- report: weather\n"))
    assert (line, key) == (6, "procedures.p.steps[0]")
    assert message.startswith("'weather' is not one of: daily, performance")


def test_db_operation_not_in_the_list() -> None:
    line, key, message = _single(_procedure("- db: [optimize, shred]\n"))
    assert (line, key) == (6, "procedures.p.steps[0]")
    assert "'shred' is not one of" in message


def test_step_taking_no_argument_given_one() -> None:
    _line, key, message = _single(_procedure("- health_check: 3\n"))
    assert key == "procedures.p.steps[0]"
    assert "takes no argument" in message


def test_step_needing_an_argument_given_none() -> None:
    _line, key, message = _single(_procedure("- backup\n"))
    assert key == "procedures.p.steps[0]"
    assert "needs the name of one of backups" in message


def test_step_referencing_a_missing_backup_set() -> None:
    text = _procedure(
        "- {backup: config}\n- {backup: nope}\n",
        "backups:\n  - name: config\n    sources: [/etc]\n",
    )
    assert _single(text) == (
        7,
        "procedures.p.steps[1].backup",
        "no entry named 'nope' in backups",
    )


def test_after_step_referencing_a_missing_rule() -> None:
    text = _procedure("- health_check\n", "    after:\n      - {alert_test: nope}\n")
    assert _single(text) == (
        8,
        "procedures.p.after[0].alert_test",
        "no entry named 'nope' in alerts.rules",
    )


def test_rule_referencing_a_missing_channel() -> None:
    text = """\
        checks:
          - {name: load, type: load, warning: 1, critical: 2}
        alerts:
          rules:
            - name: r
              check: load
              channels:
                - nope
        """
    assert _single(text) == (
        8,
        "alerts.rules[0].channels[0]",
        "no channel named 'nope' in alerts.channels",
    )


def test_rule_referencing_a_missing_check() -> None:
    text = """\
        alerts:
          rules:
            - name: r
              check: nope
        """
    assert _single(text) == (4, "alerts.rules[0].check", "no check named 'nope' in checks")


def test_notify_channel_missing() -> None:
    text = """\
        notify:
          on: [failure]
          channels: [nope]
        """
    assert _single(text) == (3, "notify.channels[0]", "no channel named 'nope' in alerts.channels")


def test_health_score_weight_for_an_unknown_check() -> None:
    text = """\
        checks:
          - {name: load, type: load, warning: 1, critical: 2}
        health_score:
          weights:
            load: 2
            nope: 3
        """
    assert _single(text) == (6, "health_score.weights.nope", "no check named 'nope' in checks")


@pytest.mark.parametrize(
    ("section", "item"),
    [
        ("checks", "{name: dup, type: load, warning: 1, critical: 2}"),
        ("backups", "{name: dup, sources: [/etc]}"),
        ("cleanup", "{name: dup, path: /tmp, delete_after: 1d}"),
        ("logs", "{name: dup, paths: [/var/log/x.log]}"),
    ],
)
def test_duplicate_names_in_a_section(section: str, item: str) -> None:
    text = f"{section}:\n  - {item}\n  - {item}\n"
    assert _single(text) == (3, f"{section}[1].name", "duplicate name 'dup'")


def test_duplicate_channel_and_rule_names() -> None:
    text = """\
        alerts:
          rules:
            - {name: r, when: health_score < 50, channels: [log]}
            - {name: r, when: health_score < 20, channels: [log]}
          channels:
            - {name: log, type: log}
            - {name: log, type: log}
        """
    assert _issues(text) == [
        (4, "alerts.rules[1].name", "duplicate name 'r'"),
        (7, "alerts.channels[1].name", "duplicate name 'log'"),
    ]


def test_duplicate_yaml_key_names_the_key_and_both_lines() -> None:
    text = """\
        version: 1
        daemon:
          watchdog: true
          watchdog: false
        """
    assert _single(text) == (
        4,
        "daemon.watchdog",
        "duplicate key 'watchdog' (first defined on line 3)",
    )


def test_duplicate_procedure_name_is_a_duplicate_key() -> None:
    text = """\
        procedures:
          p:
            schedule: {hour: 2}
            steps: [health_check]
          p:
            schedule: {hour: 3}
            steps: [health_check]
        """
    assert _single(text) == (5, "procedures.p", "duplicate key 'p' (first defined on line 2)")


def test_invalid_yaml_syntax_takes_the_line_from_the_parser() -> None:
    text = """\
        version: 1
        daemon:
          watchdog: [true
          log_level: info
        timezone: UTC
        """
    line, key, message = _single(text)
    assert (line, key) == (4, "(top level)")
    assert message.startswith("invalid YAML:")


def test_unclosed_quote_points_at_the_line_where_it_opened() -> None:
    text = """\
        version: 1
        timezone: UTC
        daemon:
          log_level: "info
          watchdog: true
          catch_up: false
        """
    line, key, message = _single(text)
    assert (line, key) == (4, "(top level)")
    assert message == "invalid YAML: unclosed quoted string (opened here)"


def test_unclosed_single_quote_deep_in_a_long_file_points_at_its_line() -> None:
    padding = "".join(f"# line {number}\n" for number in range(2, 160))
    text = "version: 1\n" + padding + "timezone: 'UTC\n" + "daemon: {}\n" + "# end\n"
    line, _key, message = _single(text)
    assert line == 160
    assert "unclosed quoted string" in message


def test_unclosed_flow_mapping_points_at_its_brace() -> None:
    line, _key, message = _single("version: 1\ndaemon: {watchdog: true\n\n# end\n")
    assert (line, message) == (2, "invalid YAML: unclosed '{' (opened here)")


def test_bad_escape_inside_a_closed_quote_keeps_the_parser_line_and_words() -> None:
    line, _key, message = _single('version: 1\n\ntimezone: "U\\qTC"\n')
    assert line == 3
    assert message == "invalid YAML: found unknown escape character 'q'"


def test_tab_indentation_is_invalid_yaml_with_its_line() -> None:
    line, _key, message = _single("version: 1\ndaemon:\n\twatchdog: true\n")
    assert line == 3
    assert message.startswith("invalid YAML:")


@pytest.mark.parametrize("text", ["", "- a\n- b\n", "just text\n"])
def test_a_file_that_is_not_a_mapping_is_rejected(text: str) -> None:
    assert _single(text) == (1, "(top level)", "the file must be a YAML mapping of sections")


def test_public_dashboard_without_token_file() -> None:
    line, key, message = _single("version: 1\ndashboard:\n  listen: 0.0.0.0:8081\n")
    assert (line, key) == (2, "dashboard")
    assert "not loopback: set token_file" in message


def test_dashboard_listen_without_port() -> None:
    assert "host:port" in _single("dashboard:\n  listen: localhost\n")[2]


def test_bad_timezone() -> None:
    line, key, message = _single("version: 1\ntimezone: Mars/Olympus\n")
    assert (line, key) == (2, "timezone")
    assert message.startswith("unknown time zone 'Mars/Olympus'")


def test_bad_cron_field_names_the_field() -> None:
    text = """\
        procedures:
          monthly:
            schedule:
              day: 1st sunday
              hour: 1
            steps: [health_check]
        """
    line, key, message = _single(text)
    assert (line, key) == (4, "procedures.monthly.schedule.day")
    assert "sunday" in message


def test_cron_field_out_of_range() -> None:
    text = """\
        procedures:
          p:
            schedule:
              hour: 25
            steps: [health_check]
        """
    line, key, message = _single(text)
    assert (line, key) == (4, "procedures.p.schedule.hour")
    assert "maximum value (23)" in message


@pytest.mark.parametrize(
    ("cron", "message"),
    [
        ("0 2 * *", "a crontab line has 5 fields"),
        ("0 2 * * 8", "weekday 8 is out of range"),
        ("0 2 * * funday", "not a number or a day name"),
        ("61 2 * * *", "maximum value (59)"),
        ("@fortnightly", "unsupported crontab macro"),
    ],
)
def test_bad_crontab_line(cron: str, message: str) -> None:
    text = f"procedures:\n  p:\n    schedule:\n      cron: '{cron}'\n    steps: [health_check]\n"
    line, key, text_of_error = _single(text)
    assert (line, key) == (4, "procedures.p.schedule.cron")
    assert message in text_of_error


def test_schedule_with_two_forms() -> None:
    text = """\
        procedures:
          p:
            schedule: {cron: "0 2 * * *", hour: 2}
            steps: [health_check]
        """
    line, key, message = _single(text)
    assert (line, key) == (3, "procedures.p.schedule")
    assert message.startswith("give exactly one of")


def test_schedule_with_no_form() -> None:
    text = "procedures:\n  p:\n    schedule: {}\n    steps: [health_check]\n"
    assert _single(text)[1] == "procedures.p.schedule"


def test_interval_below_one_second() -> None:
    text = "procedures:\n  p:\n    schedule: {every: 200ms}\n    steps: [health_check]\n"
    assert "at least 1s" in _single(text)[2]


def test_run_given_a_string_instead_of_argv() -> None:
    line, key, message = _single(_procedure("- run: echo hello\n"))
    assert (line, key) == (6, "procedures.p.steps[0]")
    assert "takes an argv list" in message
    assert "never go through a shell" in message


def test_run_given_an_empty_argv() -> None:
    assert "non-empty argv" in _single(_procedure("- run: []\n"))[2]


@pytest.mark.parametrize(
    "step", ["- {backup: config, cwd: /srv}\n", "- {cleanup: null, env: {}}\n"]
)
def test_cwd_or_env_on_a_step_that_is_not_run(step: str) -> None:
    text = _procedure(step, "backups:\n  - name: config\n    sources: [/etc]\n")
    line, key, message = _single(text)
    assert (line, key) == (6, "procedures.p.steps[0]")
    assert message == "`cwd` and `env` apply to `run:` steps only"


def test_step_with_two_name_keys() -> None:
    line, key, message = _single(_procedure("- run: [x]\n  bogus: 1\n"))
    assert (line, key) == (6, "procedures.p.steps[0]")
    assert "exactly one name key" in message


def test_bad_step_option() -> None:
    text = _procedure("- run: [x]\n  timeout: soon\n- run: [y]\n  on_failure: maybe\n")
    assert [(line, key) for line, key, _ in _issues(text)] == [
        (7, "procedures.p.steps[0].timeout"),
        (9, "procedures.p.steps[1].on_failure"),
    ]


def test_unknown_precondition() -> None:
    text = _procedure("- health_check\n", "    before:\n      - {require: sunshine}\n")
    line, key, message = _single(text)
    assert (line, key) == (8, "procedures.p.before[0]")
    assert "sunshine" in message


def test_unknown_channel_type_names_the_channel() -> None:
    text = "alerts:\n  channels:\n    - name: x\n      type: pigeon\n"
    line, key, message = _single(text)
    assert (line, key) == (3, "alerts.channels[0]")
    assert "pigeon" in message


def test_email_channel_missing_its_from_alias() -> None:
    text = "alerts:\n  channels:\n    - {name: x, type: email, to: [a@example.com]}\n"
    assert _single(text) == (3, "alerts.channels[0].from", "required key is missing")


def test_bad_rule_comparison() -> None:
    text = "alerts:\n  rules:\n    - name: r\n      when: health_score is low\n"
    assert _single(text)[:2] == (4, "alerts.rules[0].when")


def test_notify_on_accepts_only_events() -> None:
    # YAML 1.2 booleans: `yes` stays a string, and is not an event.
    assert _single("notify:\n  on: [yes]\n")[:2] == (2, "notify.on[0]")


def test_several_errors_are_all_reported_at_once() -> None:
    text = """\
        version: 1
        bogus: 1
        daemon:
          shutdown_timeout: soon
        timezone: Mars/Olympus
        checks:
          - {name: root, type: disk_free, path: /, warning: 200%, critical: 10%}
        """
    assert sorted((line, key) for line, key, _ in _issues(text)) == [
        (2, "bogus"),
        (4, "daemon.shutdown_timeout"),
        (5, "timezone"),
        (7, "checks[0].warning"),
    ]


def test_several_reference_errors_are_all_reported_at_once() -> None:
    text = """\
        alerts:
          rules:
            - name: r
              check: nope
              channels: [missing]
        notify:
          channels: [absent]
        health_score:
          weights: {ghost: 2}
        """
    assert sorted((line, key) for line, key, _ in _issues(text)) == [
        (4, "alerts.rules[0].check"),
        (5, "alerts.rules[0].channels[0]"),
        (7, "notify.channels[0]"),
        (9, "health_score.weights.ghost"),
    ]


def test_error_message_says_the_first_issue_and_how_many_more() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config("a: 1\nb: 2\nc: 3\n", FILE)
    assert caught.value.first_line.endswith("(and 2 more)")


@pytest.mark.parametrize("name", ["..", ".", "-x", ".hidden"])
def test_a_backup_set_name_that_leaves_backup_dir_is_refused(name: str) -> None:
    text = f"version: 1\nbackups:\n  - name: {name!r}\n    sources: [/etc]\n"
    line, key, message = _single(text)
    assert (line, key) == (3, "backups[0].name")
    assert repr(name) in message


@pytest.mark.parametrize("name", ["-daily", "--all"])
def test_a_procedure_name_that_looks_like_an_option_is_refused(name: str) -> None:
    text = (
        f"version: 1\nprocedures:\n  {name!r}:\n    schedule: {{hour: 2}}\n    steps: [cleanup]\n"
    )
    _line, key, message = _single(text)
    assert key == "procedures" and "starts with `-`" in message


# -- fleet ----------------------------------------------------------------------------------


def test_fleet_channel_missing() -> None:
    text = """\
        fleet:
          channels: [nope]
        """
    assert _single(text) == (2, "fleet.channels[0]", "no channel named 'nope' in alerts.channels")


def test_fleet_watch_needs_a_postgresql_store() -> None:
    text = """\
        database:
          url: sqlite:////var/lib/hostkeeper/hostkeeper.db
        fleet:
          watch: true
        """
    line, key, message = _single(text)
    assert (line, key) == (4, "fleet.watch") and "PostgreSQL" in message


def test_fleet_silent_after_must_span_three_heartbeats() -> None:
    text = """\
        fleet:
          heartbeat_every: 1m
          silent_after: 2m
        """
    line, key, message = _single(text)
    assert (line, key) == (3, "fleet.silent_after") and "3 x fleet.heartbeat_every" in message


def test_host_silent_is_a_reserved_rule_name() -> None:
    text = """\
        checks:
          - {name: disk, type: disk_free, path: /, warning: 20%, critical: 10%}
        alerts:
          rules:
            - name: host_silent
              check: disk
        """
    line, key, message = _single(text)
    assert (line, key) == (5, "alerts.rules[0].name") and "built-in rule" in message


@pytest.mark.parametrize("host_id", ["", "../etc", "-web", "web 01", "a" * 101])
def test_a_host_id_is_one_plain_name(host_id: str) -> None:
    line, key, _ = _single(f"fleet:\n  host_id: {host_id!r}\n")
    assert (line, key) == (2, "fleet.host_id")
