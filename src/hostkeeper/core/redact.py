"""Redaction: what hostkeeper logs, stores or serves never carries a secret.

Pure: strings in, strings out. One set of rules for every reader (log events, channel
errors, the delivery log, stored step results, /api, reports):

- URLs: the userinfo (`user:pass@`) becomes `***@`, every query value and the fragment
  become `***`, and path segments that look like tokens become `***`. A segment looks
  like a token when it is at least 20 letters and digits, or at least 16 characters of
  letters, digits, `-` and `_` with both a letter and a digit in it: the secret parts of
  Slack (`/services/T.../B.../<token>`), Discord, Mattermost and Teams webhook URLs.
  Callers that know more (a channel marked `secret_path: true`) pass the literal
  secrets to hide as well.
- Arguments: `--password=x`, `--token x` (any long option naming a password, passphrase,
  token, secret, API or access key, or credentials, except `...-file`/`-path`/`-dir`),
  `NAME_PASSWORD=x` style assignments and `Authorization: ...`-style headers.
- Free text: every URL in it, the argument forms above, `Authorization:` headers, and
  `password=x` style assignments.

Redaction is idempotent and never raises.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit, urlunsplit

REDACTED = "***"

# Words that name a secret inside a longer name (DB_PASSWORD, api_token, X-Auth-Token).
_SENSITIVE_WORD = (
    r"passw(?:or)?d|passphrase|token|secret|api[-_]?key|access[-_]?key|private[-_]?key"
    r"|credentials?"
)
# Option names add a few that are secrets only as a whole word: --pass, --auth, --cookie.
_OPTION_WORD = rf"{_SENSITIVE_WORD}|pass|auth|authorization|cookie"
# A long option naming a secret; `--token-file`, `--password-path` name a file instead.
_SECRET_OPTION = re.compile(rf"(?i)^--?(?:[a-z0-9]+[-_])*(?:{_OPTION_WORD})(?:[-_][a-z0-9]+)*$")
_NAMES_A_FILE = re.compile(r"(?i)[-_](?:file|path|dir|directory|env|name|length|type)$")
# Environment-style assignment as one argument: DB_PASSWORD=..., API_TOKEN=...
_SECRET_ASSIGNMENT = re.compile(rf"(?i)^([a-z0-9_]*(?:{_SENSITIVE_WORD})[a-z0-9_]*)=(.+)$", re.S)
_SECRET_HEADER = re.compile(
    r"(?i)^\s*((?:proxy-)?authorization|cookie|set-cookie|x-[a-z0-9-]*(?:token|key|secret|auth)"
    r"[a-z0-9-]*)\s*:\s*(\S.*)$",
    re.S,
)

_URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>`]+")
_HEADER_IN_TEXT = re.compile(
    r"(?i)\b((?:proxy-)?authorization|x-[a-z0-9-]*(?:token|key|secret|auth)[a-z0-9-]*)"
    r"(\s*:\s*)([^\r\n\"'}]+)"
)
_OPTION_IN_TEXT = re.compile(
    rf"(?i)(?<![\w-])(--?(?:[a-z0-9]+[-_])*(?:{_OPTION_WORD})(?:[-_][a-z0-9]+)*)([= ])"
    r"(?!\*\*\*)([^\s\"',;]+)"
)
_ASSIGNMENT_IN_TEXT = re.compile(
    rf"(?i)(?<![\w/.-])([a-z0-9_]*(?:{_SENSITIVE_WORD})[a-z0-9_]*)(\s*=\s*)"
    r"(?![\s\"']|\*\*\*|(?:true|false|none|null)\b)([^\s\"',;&}]+)"
)
_TOKEN_SEGMENT = re.compile(r"[A-Za-z0-9]{20,}|[A-Za-z0-9_-]{16,}")


def looks_like_token(segment: str) -> bool:
    """Whether one URL path segment looks like a credential (see the module docstring)."""
    if not _TOKEN_SEGMENT.fullmatch(segment):
        return False
    if len(segment) >= 20 and segment.isalnum():
        return True
    return any(c.isdigit() for c in segment) and any(c.isalpha() for c in segment)


def redact_url(url: str, secrets: Iterable[str] = ()) -> str:
    """`url` with its userinfo, query values, fragment and token-like path segments
    replaced by `***`; `secrets` are further literal strings to hide."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return _hide_literals(_ASSIGNMENT_IN_TEXT.sub(_keep_name, url), secrets)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{REDACTED}@{netloc.rpartition('@')[2]}"
    path = "/".join(_redact_segment(segment) for segment in parts.path.split("/"))
    query = "&".join(_redact_pair(pair) for pair in parts.query.split("&")) if parts.query else ""
    fragment = REDACTED if parts.fragment else ""
    try:
        rebuilt = urlunsplit((parts.scheme, netloc, path, query, fragment))
    except ValueError:
        rebuilt = url
    return _hide_literals(rebuilt, secrets)


def _redact_segment(segment: str) -> str:
    # Teams puts two ids in one segment: GUID@TENANT.
    return "@".join(REDACTED if looks_like_token(part) else part for part in segment.split("@"))


def _redact_pair(pair: str) -> str:
    name, equals, _value = pair.partition("=")
    if not equals:
        return REDACTED if name else name
    return f"{name}={REDACTED}"


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """Free text (an error message, a log value, command output) with every URL,
    secret-looking option, header and assignment redacted, and `secrets` hidden."""
    if not text:
        return text
    text = _hide_literals(text, secrets)
    text = _URL.sub(lambda match: redact_url(match.group(0)), text)
    text = _HEADER_IN_TEXT.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    text = _OPTION_IN_TEXT.sub(_option_in_text, text)
    return _ASSIGNMENT_IN_TEXT.sub(_keep_name, text)


def _option_in_text(match: re.Match[str]) -> str:
    option, separator, value = match.groups()
    if _NAMES_A_FILE.search(option):
        return match.group(0)
    if separator == " " and value.startswith("-"):
        return match.group(0)  # a flag followed by the next option, not a value
    return f"{option}{separator}{REDACTED}"


def _keep_name(match: re.Match[str]) -> str:
    name = match.group(1)
    if _NAMES_A_FILE.search(name):
        return match.group(0)
    return f"{name}{match.group(2)}{REDACTED}"


def redact_argv(argv: Sequence[str], secrets: Iterable[str] = ()) -> list[str]:
    """A command line with secret-looking arguments redacted, argument by argument:
    `--password=x`, the argument after `--token`, `X_TOKEN=x`, `Authorization: x`,
    URLs with credentials; `secrets` are further literal strings to hide."""
    hidden = tuple(secrets)
    result: list[str] = []
    redact_next = False
    for argument in argv:
        if redact_next:
            redact_next = False
            if not argument.startswith("-"):  # `--no-password -d db`: no value follows
                result.append(REDACTED)
                continue
        name, equals, _value = argument.partition("=")
        if _SECRET_OPTION.match(name) and not _NAMES_A_FILE.search(name):
            if equals:
                result.append(f"{name}={REDACTED}")
            else:
                result.append(argument)
                redact_next = True
            continue
        header = _SECRET_HEADER.match(argument)
        if header:
            result.append(f"{header.group(1)}: {REDACTED}")
            continue
        assignment = _SECRET_ASSIGNMENT.match(argument)
        if assignment and not _NAMES_A_FILE.search(assignment.group(1)):
            result.append(f"{assignment.group(1)}={REDACTED}")
            continue
        result.append(redact_text(argument, hidden))
    return result


def argv_secrets(argv: Sequence[str]) -> list[str]:
    """The secret values `redact_argv` hides in `argv`, so that the same values can be
    hidden wherever else they turn up (a command that prints its own arguments)."""
    found: list[str] = []
    for original, shown in zip(argv, redact_argv(argv), strict=True):
        if original == shown:
            continue
        if shown == REDACTED:
            found.append(original)
        elif "://" in original:  # URLs: the pieces that disappeared
            pieces = re.split(r"[\s:@/?&=#]+", original)
            found += [piece for piece in pieces if len(piece) >= 4 and piece not in shown]
        elif shown.endswith("=" + REDACTED):
            found.append(original.partition("=")[2])
        elif shown.endswith(": " + REDACTED):
            value = original.partition(":")[2].strip()
            found += [value, value.split()[-1]] if value else []
        else:  # other text: the pieces that disappeared
            pieces = re.split(r"[\s:@/?&=#]+", original)
            found += [piece for piece in pieces if len(piece) >= 4 and piece not in shown]
    return found


def redact_value(value: object, secrets: Iterable[str] = ()) -> object:
    """Any JSON-like value with every string in it redacted (lists named `argv` as argv)."""
    hidden = tuple(secrets)
    if isinstance(value, str):
        return redact_text(value, hidden)
    if isinstance(value, dict):
        return {
            key: (
                redact_argv(item, hidden)
                if key == "argv"
                and isinstance(item, list)
                and all(isinstance(a, str) for a in item)
                else redact_value(item, hidden)
            )
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact_value(item, hidden) for item in value]
    return value


def _hide_literals(text: str, secrets: Iterable[str]) -> str:
    # Longest first, so a secret that contains another is hidden whole.
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text
