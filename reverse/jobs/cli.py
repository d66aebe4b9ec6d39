"""`flask worker`, `flask outbox …` and `flask serve`: the processes that run jobs."""

from __future__ import annotations

import logging
import threading

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from rq import SimpleWorker
from werkzeug.serving import run_simple

from reverse.extensions import db
from reverse.jobs.constants import ALL_QUEUES
from reverse.jobs.outbox import get_queue, get_redis, outbox_counts, redis_url, relay_once

log = logging.getLogger(__name__)


def start_relay(app: Flask, stop: threading.Event, interval: float) -> threading.Thread:
    """Deliver pending outbox rows every `interval` seconds until `stop` is set."""

    def loop() -> None:
        while not stop.wait(interval):
            with app.app_context():
                try:
                    relay_once()
                except Exception:
                    log.exception("outbox relay pass failed; trying again")
                finally:
                    db.session.remove()

    thread = threading.Thread(target=loop, name="outbox-relay", daemon=True)
    thread.start()
    return thread


@click.command("worker")
@click.option(
    "-q",
    "--queue",
    "queues",
    multiple=True,
    type=click.Choice([str(q) for q in ALL_QUEUES]),
    help="Queue to listen on (repeatable); all of them by default.",
)
@click.option("--burst", is_flag=True, help="Run the jobs waiting now, then exit.")
@click.option("--no-relay", is_flag=True, help="Do not re-deliver pending outbox rows here.")
@with_appcontext
def worker_command(queues: tuple[str, ...], burst: bool, no_relay: bool) -> None:
    """Run an RQ worker (with RQ's scheduler) and the outbox relay."""
    if not redis_url():
        raise click.UsageError(
            "REVERSE_REDIS_URL is not set: in the embedded set-up jobs run inside `flask serve`."
        )
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    stop = threading.Event()
    if not no_relay:
        relay_once()
        if not burst:
            start_relay(app, stop, app.config["RELAY_INTERVAL"])
    # SimpleWorker runs jobs in this process: no fork after the relay thread has started,
    # and each job pushes its own app context and database session.
    worker = SimpleWorker([get_queue(q) for q in (queues or ALL_QUEUES)], connection=get_redis())
    try:
        worker.work(burst=burst, with_scheduler=not burst, logging_level="INFO")
    finally:
        stop.set()


@click.group("outbox")
def outbox_group() -> None:
    """Inspect and deliver the job outbox."""


@outbox_group.command("relay")
@click.option("--once", is_flag=True, help="One pass, then exit.")
@with_appcontext
def relay_command(once: bool) -> None:
    """Deliver pending jobs (normally done inside `flask worker`)."""
    if once:
        click.echo(f"delivered {relay_once()}")
        return
    stop = threading.Event()
    thread = start_relay(
        current_app._get_current_object(),
        stop,  # type: ignore[attr-defined]
        current_app.config["RELAY_INTERVAL"],
    )
    try:
        thread.join()
    except KeyboardInterrupt:
        stop.set()


@outbox_group.command("status")
@with_appcontext
def status_command() -> None:
    """Count outbox rows by status."""
    for status, count in outbox_counts().items():
        click.echo(f"{status:10} {count}")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, envvar="PORT", type=int)
@with_appcontext
def serve_command(host: str, port: int) -> None:
    """Serve the embedded set-up: the web app, with jobs run in-process by the relay."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    stop = threading.Event()
    start_relay(app, stop, app.config["RELAY_INTERVAL"])
    click.echo(f"Reverse is running on http://{host}:{port}/ (Ctrl-C stops it)")
    try:
        # `app.run()` refuses to run under the flask command; the server it wraps does not.
        run_simple(host, port, app, threaded=True, use_reloader=False, use_debugger=False)
    finally:
        stop.set()
