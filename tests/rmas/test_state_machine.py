"""The RMA lifecycle: only legal moves, every move an event, repeats change nothing."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from reverse.core.actors import Actor
from reverse.core.errors import ConcurrentChange, IllegalTransition
from reverse.extensions import db
from reverse.rmas.constants import (
    INITIAL_STATUSES,
    REPAIR_MOVES,
    RETURN_MOVES,
    RmaStatus,
    RmaType,
    moves_for,
    statuses_for,
)
from reverse.rmas.models import EventKind, Rma, RmaEvent, replay_status
from reverse.rmas.operations import move_rma
from tests.conftest import empty_tables

pytestmark = pytest.mark.databases


def test_a_legal_move_changes_status_and_records_one_event(ctx, create_rma):
    rma = db.session.merge(create_rma(RmaType.RETURN))
    event = move_rma(rma, RmaStatus.APPROVED, Actor.system("policy"), note="within window")
    db.session.commit()

    rma = db.session.get(Rma, rma.id)
    assert rma.status == RmaStatus.APPROVED
    assert event.from_status == RmaStatus.SUBMITTED
    assert event.to_status == RmaStatus.APPROVED
    assert [e.kind for e in rma.events] == [EventKind.CREATED, EventKind.STATUS_CHANGED]
    assert rma.events[-1].actor_label == "policy"
    assert rma.events[-1].note == "within window"


def test_an_illegal_move_is_refused_and_records_nothing(ctx, create_rma):
    rma = db.session.merge(create_rma(RmaType.RETURN))
    with pytest.raises(IllegalTransition):
        move_rma(rma, RmaStatus.RESOLVED, Actor.system())
    db.session.rollback()

    rma = db.session.get(Rma, rma.id)
    assert rma.status == RmaStatus.SUBMITTED
    assert len(rma.events) == 1


def test_repeating_a_move_changes_nothing(ctx, create_rma):
    rma = db.session.merge(create_rma(RmaType.RETURN))
    move_rma(rma, RmaStatus.APPROVED, Actor.system())
    db.session.commit()
    version = db.session.get(Rma, rma.id).version_id

    assert move_rma(rma, RmaStatus.APPROVED, Actor.system()) is None
    db.session.commit()

    rma = db.session.get(Rma, rma.id)
    assert rma.version_id == version
    assert len(rma.events) == 2


def test_repair_paths_differ_from_return_paths(ctx, create_rma):
    repair = db.session.merge(create_rma(RmaType.REPAIR, RmaStatus.ACCEPTED))
    with pytest.raises(IllegalTransition):
        repair.transition(RmaStatus.APPROVED, Actor.system())
    returned = db.session.merge(create_rma(RmaType.RETURN))
    with pytest.raises(IllegalTransition):
        returned.transition(RmaStatus.DIAGNOSED, Actor.system())


def test_a_return_cannot_start_as_accepted_at_a_counter(ctx, create_rma):
    rma = db.session.merge(create_rma(RmaType.RETURN))
    with pytest.raises(IllegalTransition):
        Rma(type=RmaType.RETURN).start(RmaStatus.ACCEPTED, Actor.system())
    assert rma.status == RmaStatus.SUBMITTED


def test_every_status_is_reachable_and_terminal_statuses_have_no_exit():
    for rma_type in RmaType:
        moves = moves_for(rma_type)
        reachable = set(INITIAL_STATUSES[rma_type])
        frontier = list(reachable)
        while frontier:
            for nxt in moves.get(frontier.pop(), ()):
                if nxt not in reachable:
                    reachable.add(nxt)
                    frontier.append(nxt)
        assert reachable == set(statuses_for(rma_type))
        for terminal in (RmaStatus.CLOSED, RmaStatus.CANCELLED, RmaStatus.EXPIRED):
            assert terminal in reachable
            assert not moves.get(terminal)


def _move_in_thread(app, rma_id, target, barrier, outcomes):
    with app.app_context():
        try:
            barrier.wait(timeout=10)
            rma = db.session.get(Rma, rma_id)
            move_rma(rma, target, Actor.system(f"thread-{target}"))
            db.session.commit()
            outcomes.append(("moved", target))
        except (IllegalTransition, ConcurrentChange) as exc:
            db.session.rollback()
            outcomes.append((type(exc).__name__, target))
        finally:
            db.session.remove()


def test_two_concurrent_moves_cannot_both_win(app, create_rma):
    rma = create_rma(RmaType.RETURN)
    barrier = threading.Barrier(2)
    outcomes: list[tuple[str, RmaStatus]] = []
    threads = [
        threading.Thread(target=_move_in_thread, args=(app, rma.id, target, barrier, outcomes))
        for target in (RmaStatus.APPROVED, RmaStatus.REJECTED)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    winners = [target for outcome, target in outcomes if outcome == "moved"]
    assert len(outcomes) == 2
    assert len(winners) == 1
    with app.app_context():
        stored = db.session.get(Rma, rma.id)
        assert stored.status == winners[0]
        assert len(stored.events) == 2
        assert replay_status(stored.events) == stored.status


_ALL_MOVES = sorted({s for m in (RETURN_MOVES, REPAIR_MOVES) for s in m} | set(RmaStatus))


class LifecycleMachine(RuleBasedStateMachine):
    """Random sequences of moves, legal and illegal, against the real database."""

    rmas = Bundle("rmas")

    def __init__(self, app, create_rma) -> None:
        super().__init__()
        self.app = app
        self.create_rma = create_rma
        #: what the test believes: rma id → (type, status, number of events)
        self.model: dict[int, list] = {}

    @initialize()
    def clean(self) -> None:
        empty_tables(self.app)

    @rule(target=rmas, rma_type=st.sampled_from(list(RmaType)), data=st.data())
    def open_rma(self, rma_type, data):
        start = data.draw(st.sampled_from(sorted(INITIAL_STATUSES[rma_type])))
        rma = self.create_rma(rma_type, start)
        self.model[rma.id] = [rma_type, start, 1]
        return rma.id

    @rule(rma_id=rmas, target_status=st.sampled_from(_ALL_MOVES))
    def move(self, rma_id, target_status):
        rma_type, status, events = self.model[rma_id]
        legal = target_status in moves_for(rma_type).get(status, frozenset())
        with self.app.app_context():
            rma = db.session.get(Rma, rma_id)
            try:
                event = move_rma(rma, target_status, Actor.system("hypothesis"))
                db.session.commit()
            except IllegalTransition:
                db.session.rollback()
                assert not legal
                assert target_status != status
                return
            finally:
                db.session.remove()
        if target_status == status:
            assert event is None
        else:
            assert legal
            self.model[rma_id] = [rma_type, target_status, events + 1]

    @rule(rma_id=consumes(rmas))
    def repeat_the_last_move(self, rma_id):
        _rma_type, status, _events = self.model[rma_id]
        with self.app.app_context():
            rma = db.session.get(Rma, rma_id)
            assert move_rma(rma, status, Actor.system("again")) is None
            db.session.commit()
            db.session.remove()

    @invariant()
    def database_agrees_and_events_replay(self):
        with self.app.app_context():
            for rma_id, (rma_type, status, events) in self.model.items():
                rma = db.session.get(Rma, rma_id)
                assert rma.status == status
                assert rma.status in statuses_for(rma_type)
                stored = db.session.scalars(
                    sa.select(RmaEvent).where(RmaEvent.rma_id == rma_id).order_by(RmaEvent.id)
                ).all()
                assert len(stored) == events
                assert replay_status(stored) == rma.status
            db.session.remove()


def test_random_move_sequences_keep_the_lifecycle_legal(app, create_rma):
    run_state_machine_as_test(
        lambda: LifecycleMachine(app, create_rma),
        settings=settings(
            max_examples=15,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
