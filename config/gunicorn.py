"""gunicorn settings for production: `gunicorn -c config/gunicorn.py config.wsgi`.

The access log records the path without its query string (%(U)s, not %(r)s): delegate search puts names,
emails and phone digits in `?q=`. No referrer either: it is the previous page's full URL, query and all.
"""

import os

bind = os.environ.get("GUNICORN_BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
accesslog = "-"
errorlog = "-"
# remote address, time, "METHOD /path PROTOCOL", status, bytes, microseconds
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(D)s'
# Behind a proxy, trust its X-Forwarded-* only from the addresses named here (gunicorn's own setting).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
