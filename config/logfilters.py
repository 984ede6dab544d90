"""Logs record paths, never query strings: delegate search puts names, emails and phone digits in `?q=`."""

import logging
import re

# A path followed by a query string, inside a request line or a message: keep the path, drop "?…".
_QUERY = re.compile(r"(?P<path>/[^\s?\"']*)\?[^\s\"']*")


def strip_query(text: str) -> str:
    return _QUERY.sub(r"\g<path>", text)


class StripQueryStringFilter(logging.Filter):
    """Removes query strings from a record's message and string arguments (runserver's request lines,
    django.request's warnings, anything else that logs a URL). Never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = strip_query(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(strip_query(arg) if isinstance(arg, str) else arg for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: strip_query(v) if isinstance(v, str) else v for k, v in record.args.items()}
        return True
