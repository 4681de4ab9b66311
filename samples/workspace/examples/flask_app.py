"""Flask integration: create a user and enqueue its welcome email atomically.

    export TIDEPOOL_DATABASE_URL=postgresql://app:secret@localhost/app
    tidepool migrate
    psql "$TIDEPOOL_DATABASE_URL" -c "CREATE TABLE users (id bigserial PRIMARY KEY,
        email text UNIQUE NOT NULL, welcomed_at timestamptz)"
    flask --app examples.flask_app run
    tidepool worker --app examples.flask_app:queue --queues emails
"""

from __future__ import annotations

import logging
import os

import psycopg
from flask import Flask, abort, g, jsonify, request

from tidepool import Queue
from tidepool.errors import PermanentFailure

log = logging.getLogger(__name__)
app = Flask(__name__)
queue = Queue()  # the worker imports this object via --app


@queue.task(name="send_welcome_email", queue="emails", max_attempts=8, timeout=60)
def send_welcome_email(user_id: int) -> None:
    """Idempotent: a second run sees welcomed_at and does nothing."""
    with queue.connect() as conn:
        row = conn.execute("SELECT email, welcomed_at FROM users WHERE id = %s",
                           (user_id,)).fetchone()
        if row is None:
            raise PermanentFailure(f"user {user_id} does not exist")
        if row[1] is not None:
            return
        log.info("sending welcome email to %s", row[0])  # call your mail provider here
        conn.execute("UPDATE users SET welcomed_at = now() WHERE id = %s", (user_id,))


def get_db() -> psycopg.Connection:
    """One transaction per request, committed or rolled back in teardown."""
    if "db" not in g:
        g.db = psycopg.connect(os.environ["TIDEPOOL_DATABASE_URL"])
    return g.db


@app.teardown_request
def close_db(exc: BaseException | None) -> None:
    db = g.pop("db", None)
    if db is not None:
        if exc is None:
            db.commit()  # the user row and the job become visible together
        else:
            db.rollback()
        db.close()


@app.post("/signup")
def signup():
    email = (request.get_json(silent=True) or {}).get("email", "").strip().lower()
    if "@" not in email:
        abort(400, "a valid email is required")
    db = get_db()
    row = db.execute("INSERT INTO users (email) VALUES (%s) ON CONFLICT (email) DO NOTHING "
                     "RETURNING id", (email,)).fetchone()
    if row is None:
        abort(409, "email already registered")
    job_id = send_welcome_email.options(conn=db).enqueue(user_id=row[0])
    return jsonify(user_id=row[0], job_id=job_id), 201


@app.get("/jobs/<int:job_id>")
def job_status(job_id: int):
    """404 once the job is pruned (retain_succeeded) or dead-lettered."""
    job = queue.get_job(job_id) or abort(404)
    return jsonify(status=job.status, attempts=job.attempts, last_error=job.last_error)


@app.post("/admin/resend-welcome/<int:user_id>")
def resend_welcome(user_id: int):
    """Repeated clicks while a job is pending enqueue nothing (unique_key)."""
    job_id = send_welcome_email.options(unique_key=f"welcome:{user_id}").enqueue(user_id=user_id)
    return jsonify(job_id=job_id, deduplicated=job_id is None)
