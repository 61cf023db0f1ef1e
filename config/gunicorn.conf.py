"""gunicorn settings for `make run` and production (`gunicorn -c config/gunicorn.conf.py config.wsgi`).

gthread: each process serves `threads` requests at once and queues further connections in the
listen backlog instead of resetting them. Requests here are short database round trips, so
threads (cheap, sharing a process's memory) rather than more processes. Sizing: README.
"""

import os

# Explicit: gunicorn would otherwise bind 0.0.0.0:$PORT when a Procfile runner sets PORT.
bind = os.environ.get("WEB_BIND", "127.0.0.1:8000").split(",")
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("WEB_THREADS", "8"))
backlog = int(os.environ.get("WEB_BACKLOG", "2048"))
timeout = int(os.environ.get("WEB_TIMEOUT", "60"))  # a worker silent this long is restarted
# On TERM/INT: finish requests in flight for this long, then stop (inside honcho's 5 s and
# systemd's default 90 s).
graceful_timeout = int(os.environ.get("WEB_GRACEFUL_TIMEOUT", "4"))
keepalive = 5
# Recycle a process now and then (bounded memory growth), not all at once.
max_requests = int(os.environ.get("WEB_MAX_REQUESTS", "5000"))
max_requests_jitter = max_requests // 10
# One line per request comes from config.logging (with the request id); no access log here.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# LOG_FORMAT=json: gunicorn's own lines (start, signals, worker restarts) as JSON objects too, so
# a log shipper reads every line of the web role the same way (the app's lines: config.logging).
if os.environ.get("LOG_FORMAT") == "json":
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
                "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            }
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            "gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
            # No access log: with a logging config gunicorn would write one, query strings (a
            # search may hold a patient's name) included; the app logs each request itself.
            "gunicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
        },
    }
