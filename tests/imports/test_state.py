"""The job state machine's transition table (imports/state.py), action by action and status by status.

The expected table is written out here from CONTRACT §3 and §4, not read from the code, so a
change to the table in imports/state.py has to be made here too, on purpose.
"""

import pytest

from imports import state
from imports.choices import ImportStatus as S
from imports.models import ImportJob
from pixee.errors import Conflict
from tests.factories import ImportJobFactory

pytestmark = pytest.mark.django_db

WORKING = {S.PENDING, S.ANALYZING, S.PROCESSING}
# action -> (the statuses it may start from, the status it leads to)
EXPECTED = {
    "start_analysis": ({S.PENDING}, S.ANALYZING),
    "finish_dry_run": ({S.ANALYZING}, S.READY),
    "start_processing": ({S.ANALYZING}, S.PROCESSING),
    "confirm": ({S.READY}, S.PROCESSING),
    "complete": ({S.PROCESSING}, S.COMPLETED),
    "fail": ({*WORKING, S.READY, S.PAUSED}, S.FAILED),
    "pause": (WORKING, S.PAUSED),
    "resume": ({S.PAUSED}, "the status it was paused from"),
    "cancel": ({*WORKING, S.READY, S.PAUSED}, S.CANCELLED),
    "reanalyze": ({S.READY, S.FAILED}, S.PENDING),
}
CASES = [(action, status) for action in EXPECTED for status in S]


def test_the_table_has_exactly_the_contract_s_actions():
    assert set(state.ACTIONS) == set(EXPECTED)


@pytest.mark.parametrize(("action", "status"), CASES, ids=[f"{a}-from-{s}" for a, s in CASES])
def test_an_action_applies_from_its_statuses_only(action, status):
    sources, target = EXPECTED[action]
    job = ImportJobFactory(status=status, paused_from=S.ANALYZING if status == S.PAUSED else "")
    if status in sources:
        assert state.transition(job.pk, action) is True
        job.refresh_from_db()
        assert job.status == (S.ANALYZING if action == "resume" else target)
    else:
        with pytest.raises(Conflict) as refused:
            state.transition(job.pk, action)
        assert str(refused.value) == f"Cannot {action.replace('_', ' ')} a job that is {status}."
        assert state.transition(job.pk, action, raise_conflict=False) is False
        assert ImportJob.objects.get(pk=job.pk).status == status  # unchanged


@pytest.mark.parametrize("running", sorted(WORKING))
def test_pause_remembers_where_the_job_was_and_resume_returns_there(running):
    job = ImportJobFactory(status=running)
    state.transition(job.pk, "pause")
    job.refresh_from_db()
    assert (job.status, job.paused_from) == (S.PAUSED, running)
    state.transition(job.pk, "resume")
    job.refresh_from_db()
    assert (job.status, job.paused_from) == (running, "")


@pytest.mark.parametrize("action", ["complete", "fail", "cancel"])
def test_reaching_a_finished_status_stamps_completed_at(action):
    job = ImportJobFactory(status=S.PROCESSING)
    state.transition(job.pk, action)
    job.refresh_from_db()
    assert job.completed_at is not None


@pytest.mark.parametrize(
    ("status", "buttons"),
    [
        (S.PENDING, ["pause", "cancel"]),
        (S.ANALYZING, ["pause", "cancel"]),
        (S.READY, ["confirm", "cancel"]),
        (S.PROCESSING, ["pause", "cancel"]),
        (S.PAUSED, ["resume", "cancel"]),
        (S.COMPLETED, []),
        (S.FAILED, []),
        (S.CANCELLED, []),
    ],
)
def test_the_user_actions_offered_follow_the_table(status, buttons):
    assert state.allowed_actions(status) == buttons
