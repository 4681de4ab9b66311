"""Dependency-free Prometheus metrics, served by each worker on ``:9464/metrics``."""

from __future__ import annotations

import math
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def _fmt(v: float) -> str:
    return "+Inf" if v == math.inf else (str(int(v)) if v == int(v) else repr(v))


class Metric:
    """A counter or gauge; ``kind`` is the Prometheus type name."""

    def __init__(self, kind: str, name: str, help_text: str, labels=()):
        self.kind, self.name, self.help, self.labels = kind, name, help_text, tuple(labels)
        self.values: dict = {}
        self.lock = threading.Lock()

    def inc(self, amount: float = 1.0, **labels) -> None:
        key = tuple(str(labels[n]) for n in self.labels)
        with self.lock:
            self.values[key] = self.values.get(key, 0.0) + amount

    def dec(self, amount: float = 1.0, **labels) -> None:
        self.inc(-amount, **labels)

    def set(self, value: float, **labels) -> None:
        with self.lock:
            self.values[tuple(str(labels[n]) for n in self.labels)] = float(value)

    def _lbl(self, key, extra: str = "") -> str:
        parts = [f'{n}="{v}"' for n, v in zip(self.labels, key)] + ([extra] if extra else [])
        return "{" + ",".join(parts) + "}" if parts else ""

    def render(self) -> list:
        out = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} {self.kind}"]
        with self.lock:
            out += [f"{self.name}{self._lbl(k)} {_fmt(v)}" for k, v in sorted(self.values.items())]
        return out


class Histogram(Metric):
    def __init__(self, name, help_text, labels, buckets):
        super().__init__("histogram", name, help_text, labels)
        self.buckets = tuple(buckets) + (math.inf,)

    def observe(self, value: float, **labels) -> None:
        key = tuple(str(labels[n]) for n in self.labels)
        with self.lock:
            counts = self.values.setdefault(key, [0] * len(self.buckets) + [0.0])
            for i, bound in enumerate(self.buckets):
                counts[i] += value <= bound
            counts[-1] += value  # running sum

    def render(self) -> list:
        out = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} histogram"]
        with self.lock:
            for key, counts in sorted(self.values.items()):
                for bound, n in zip(self.buckets, counts):
                    le = 'le="%s"' % _fmt(bound)
                    out.append(f"{self.name}_bucket{self._lbl(key, le)} {n}")
                out.append(f"{self.name}_sum{self._lbl(key)} {_fmt(counts[-1])}")
                out.append(f"{self.name}_count{self._lbl(key)} {counts[-2]}")
        return out


JOB = ("queue", "task")
JOBS_STARTED = Metric("counter", "tidepool_jobs_started_total", "Attempts started.", JOB)
JOBS_SUCCEEDED = Metric("counter", "tidepool_jobs_succeeded_total", "Attempts succeeded.", JOB)
JOBS_FAILED = Metric("counter", "tidepool_jobs_failed_total", "Attempts failed.", JOB)
JOBS_DEAD = Metric("counter", "tidepool_jobs_dead_total", "Jobs dead-lettered.", JOB)
JOB_DURATION = Histogram("tidepool_job_duration_seconds", "Wall time of one attempt.", JOB,
                         (0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300))
QUEUE_LATENCY = Histogram("tidepool_job_queue_latency_seconds",
                          "Seconds from a job's run_at until a worker claimed it.", ("queue",),
                          (0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 900))
QUEUE_DEPTH = Metric("gauge", "tidepool_queue_depth", "Jobs per queue and status.",
                     ("queue", "status"))
BUSY_THREADS = Metric("gauge", "tidepool_worker_busy_threads", "Threads running a job.")
SCHEDULER_LEADER = Metric("gauge", "tidepool_scheduler_leader", "1 if this worker is leader.")
WORKER_INFO = Metric("gauge", "tidepool_worker_info", "Always 1.", ("version", "worker_id"))
ALL = (JOBS_STARTED, JOBS_SUCCEEDED, JOBS_FAILED, JOBS_DEAD, JOB_DURATION, QUEUE_LATENCY,
       QUEUE_DEPTH, BUSY_THREADS, SCHEDULER_LEADER, WORKER_INFO)


def render() -> str:
    return "\n".join(line for m in ALL for line in m.render()) + "\n"


def start_server(port: int, healthy=lambda: True, host: str = "0.0.0.0"):
    """Serve ``/metrics`` and ``/healthz`` from a daemon thread; ``port=0`` disables.

    Raises ``OSError: [Errno 98] Address already in use`` if the port is taken.
    """
    if port == 0:
        return None

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            if self.path == "/metrics":
                status, body = 200, render()
            elif self.path == "/healthz":
                status, body = (200, "ok\n") if healthy() else (503, "stalled\n")
            else:
                status, body = 404, "not found\n"
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, name="tidepool-metrics", daemon=True).start()
    return server
