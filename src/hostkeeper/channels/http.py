"""JSON over HTTP (urllib), shared by the webhook and Alertmanager channels.

5xx, 408 and 429 replies and network errors are transient; other 4xx replies and
malformed URLs are permanent.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from hostkeeper import __version__
from hostkeeper.channels.base import DeliveryError, permanent, transient

_TRANSIENT_STATUS = {408, 425, 429}


def post_json(url: str, body: Any, timeout: float, headers: dict[str, str] | None = None) -> str:
    data = json.dumps(body, default=str).encode()
    request = urllib.request.Request(url, data=data, method="POST")  # noqa: S310 (http/https only, checked by the config)
    request.add_header("Content-Type", "application/json")
    request.add_header("User-Agent", f"hostkeeper/{__version__}")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return f"HTTP {response.status}"
    except urllib.error.HTTPError as error:
        detail = _snippet(error)
        text = f"HTTP {error.code} from {url}" + (f": {detail}" if detail else "")
        retry = error.code >= 500 or error.code in _TRANSIENT_STATUS
        raise DeliveryError(text, transient=retry) from None
    except urllib.error.URLError as error:
        reason = error.reason
        if isinstance(reason, str) and "unknown url type" in reason:
            raise permanent(f"{url}: {reason}") from None
        raise transient(f"{url}: {reason}") from None
    except TimeoutError:
        raise transient(f"{url}: no answer within {timeout:g}s") from None
    except (ConnectionError, OSError) as error:
        raise transient(f"{url}: {error}") from None
    except ValueError as error:
        raise permanent(f"{url}: {error}") from None


def _snippet(error: urllib.error.HTTPError) -> str:
    try:
        body = error.read(300).decode(errors="replace").strip()
    except OSError:
        return ""
    return " ".join(body.split())[:200]
