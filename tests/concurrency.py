"""Running one operation from many threads at the same moment, as many web workers would."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from flask import Flask

from reverse.extensions import db


def at_once(
    app: Flask, count: int, attempt: Callable[[int], Any]
) -> tuple[list[Any], list[BaseException]]:
    """Call `attempt(n)` in `count` threads released together by a barrier, each in its own
    app context and transaction: committed when it returns, rolled back when it raises.
    Returns what the calls returned and what they raised."""
    barrier = threading.Barrier(count)
    results: list[Any] = []
    raised: list[BaseException] = []

    def run(n: int) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                result = attempt(n)
                db.session.commit()
                results.append(result)
            except BaseException as exc:
                db.session.rollback()
                raised.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results, raised
