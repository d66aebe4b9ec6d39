"""`flask demo load`: a full, legal data set, loaded once."""

import sqlalchemy as sa

from reverse.auth.constants import Role
from reverse.auth.models import User
from reverse.extensions import db
from reverse.rmas.constants import RmaType, statuses_for
from reverse.rmas.models import Rma, replay_status


def test_demo_load_gives_every_status_and_a_user_per_role_and_runs_once(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    second = runner.invoke(args=["demo", "load"])
    assert second.exit_code == 0, second.output

    with app.app_context():
        rmas = db.session.scalars(sa.select(Rma).options(sa.orm.selectinload(Rma.events))).all()
        assert 250 <= len(rmas) <= 400  # loaded once, not twice
        for rma_type in RmaType:
            seen = {r.status for r in rmas if r.type == rma_type}
            assert seen == set(statuses_for(rma_type)), rma_type
        assert all(replay_status(r.events) == r.status for r in rmas)
        roles = set(db.session.scalars(sa.select(User.role)))
        assert roles == set(Role)
        names = set(db.session.scalars(sa.select(User.name)))
        assert "サポート 太郎" in names  # the long-vowel mark is not turned into a hyphen
