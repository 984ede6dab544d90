"""gunicorn settings for production: `gunicorn -c config/gunicorn.py config.wsgi` (Procfile.production).

The access log records the path without its query string (%(U)s, not %(r)s): delegate search puts names,
emails and phone digits in `?q=`. No referrer either: it is the previous page's full URL, query and all.
With LOG_FORMAT=json (production's default) gunicorn's own lines are JSON objects too, like the app's. Reading
the settings module here also stops gunicorn at start-up, naming the variable, when a setting is malformed.
"""

import os

from config.settings import LOG_FORMAT, LOGGING

bind = os.environ.get("GUNICORN_BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
# Processes per machine: about two per core. Each holds up to one database connection (CONN_MAX_AGE).
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
# A worker that has served this many requests is replaced (with jitter, not all at once): bounds slow leaks.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = max_requests // 10
accesslog = "-"
errorlog = "-"
# remote address, time, "METHOD /path PROTOCOL", status, bytes, microseconds
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(D)s'
# Behind a proxy, trust its X-Forwarded-* only from the addresses named here (gunicorn's own setting).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# JSON lines like the app's, through the same query-string filter (config/settings.py decides: LOG_FORMAT).
if LOG_FORMAT == "json":
    logconfig_dict = {
        **LOGGING,
        "loggers": {
            "gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
            "gunicorn.access": {"handlers": ["console"], "level": "INFO", "propagate": False},
        },
    }
