"""HTTP dashboard and JSON API (``tidepool dashboard``, default ``127.0.0.1:8787``).

Routes: ``GET /`` (HTML counts), ``GET /healthz``, ``GET /api/stats``,
``GET /api/jobs?status=&queue=&limit=``, ``GET /api/jobs/<id>``,
``POST /api/jobs/<id>/cancel``, ``GET /api/dead?limit=``,
``POST /api/dead/<id>/retry``. See ``docs/monitoring.md`` for payloads.

With ``TIDEPOOL_DASHBOARD_TOKEN`` set, ``/api/`` requires
``Authorization: Bearer <token>``. Without it, the API is open but read-only.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
import logging
import re
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from .queue import STATS_KEYS

log = logging.getLogger("tidepool.dashboard")
MAX_LIMIT = 500
READ_ONLY = "dashboard is read-only; set TIDEPOOL_DASHBOARD_TOKEN to enable actions"


def make_handler(queue):
    """Return a request handler class bound to a :class:`tidepool.Queue`."""
    token = queue.config.dashboard_token

    class Handler(BaseHTTPRequestHandler):
        def _send(self, status, payload, ctype="application/json"):
            body = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _authorized(self) -> bool:
            if token is None:
                return True
            supplied = self.headers.get("Authorization", "").removeprefix("Bearer ")
            if hmac.compare_digest(supplied.encode(), token.encode()):
                return True
            self._send(401, {"error": "missing or invalid bearer token"})
            return False

        def do_GET(self):  # noqa: N802
            url = urlparse(self.path)
            q = {k: v[0] for k, v in parse_qs(url.query).items()}
            raw = q.get("limit", "50")
            limit = max(1, min(MAX_LIMIT, int(raw))) if raw.isdigit() else 50
            if url.path == "/healthz":
                return self._send(200, "ok\n", "text/plain")
            if url.path == "/":
                rows = "".join(f"<tr><td>{name}</td>" + "".join(f"<td>{n}</td>" for n in c.values())
                               + "</tr>" for name, c in sorted(queue.stats().items()))
                head = "".join(f"<th>{k}" for k in ("queue",) + STATS_KEYS)
                return self._send(200, "<meta http-equiv=refresh content=5><title>Tidepool"
                                  f"</title><table><tr>{head}{rows}", "text/html")
            if not url.path.startswith("/api/"):
                return self._send(404, {"error": "not found"})
            if not self._authorized():
                return None
            if url.path == "/api/stats":
                now = dt.datetime.now(dt.timezone.utc).isoformat()
                return self._send(200, {"queues": queue.stats(), "generated_at": now})
            if url.path == "/api/jobs":
                jobs = queue.list_jobs(status=q.get("status"), queue=q.get("queue"), limit=limit)
                return self._send(200, {"jobs": [j.to_dict() for j in jobs]})
            if url.path == "/api/dead":
                return self._send(200, {"dead": queue.dead_letters(limit=limit)})
            m = re.fullmatch(r"/api/jobs/(\d+)", url.path)
            if m:
                job = queue.get_job(int(m[1]))
                if job is None:
                    return self._send(404, {"error": f"job {m[1]} not found"})
                return self._send(200, job.to_dict())
            return self._send(404, {"error": "not found"})

        def do_POST(self):  # noqa: N802
            path = urlparse(self.path).path
            if token is None:
                return self._send(403, {"error": READ_ONLY})
            if not self._authorized():
                return None
            m = re.fullmatch(r"/api/jobs/(\d+)/cancel", path)
            if m:
                if queue.cancel(int(m[1])):
                    return self._send(200, {"cancelled": True})
                return self._send(409, {"error": "job is not queued (running, finished or gone)"})
            m = re.fullmatch(r"/api/dead/(\d+)/retry", path)
            if m:
                job_id = queue.retry_dead(int(m[1]))
                if job_id is None:
                    return self._send(404, {"error": f"dead letter {m[1]} not found"})
                return self._send(200, {"job_id": job_id})
            return self._send(404, {"error": "not found"})

        def log_message(self, fmt, *args):
            log.info("%s %s", self.address_string(), fmt % args)

    return Handler


def serve(queue, host=None, port=None) -> None:
    """Run the dashboard in the foreground until interrupted."""
    cfg = queue.config
    host, port = host or cfg.dashboard_host, port or cfg.dashboard_port
    server = ThreadingHTTPServer((host, port), make_handler(queue))
    log.info("dashboard on http://%s:%d/", host, port)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
