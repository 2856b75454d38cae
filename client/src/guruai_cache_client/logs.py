"""The client's `logging` logger, `guruai_cache_client`: retries (INFO) and fallbacks (WARNING).

Nothing the client logs carries a token; the filter is the second line of defence, as in
openai-python's `SensitiveHeadersFilter`: any `Bearer <token>` in a record, in its message or its
arguments, is replaced before a handler sees it.
"""

from __future__ import annotations

import logging
import re

_BEARER = re.compile(r"(?i)(bearer\s+)[^\s'\",}]+")
REDACTED = r"\1[redacted]"


def redact(text: str) -> str:
    return _BEARER.sub(REDACTED, text)


class RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        # On the formatted message: a token may come in an argument of any type (a headers dict).
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


log = logging.getLogger("guruai_cache_client")
log.addFilter(RedactTokens())
