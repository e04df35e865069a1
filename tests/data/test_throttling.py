"""Sign-in throttling under parallel guesses: counted atomically per login and workstation, the same answer
(and about the same time) for an unknown login, nothing typed as a login stored unless it is a login."""

from __future__ import annotations

import statistics
import threading
import time

import pytest

from kapconsole.domain.errors import AuthenticationFailed
from kapconsole.domain.values import Actor
from kapconsole.services import Services
from kapconsole.services.staff import FREE_TRIES
from tests.conftest import PASSWORD, FakeClock
from tests.data.helpers import PARTS_OK, PERSON_OK, ready_for_discharge


def test_parallel_guesses_get_no_more_password_checks_than_allowed(services: Services,
                                                                   staff: dict[str, Actor]) -> None:
    """Eight guessers at once at one workstation: only the free tries reach a password check."""
    answers: list[str] = []
    lock = threading.Lock()

    def guess(n: int) -> None:
        try:
            services.staff.authenticate("sam", f"guess-{n}-wrong", "room-9")
        except AuthenticationFailed as exc:
            with lock:
                answers.append(str(exc))

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(answers) == 8
    assert answers.count("wrong login or password") == FREE_TRIES
    checked = services.audit.events(staff["administrator"], action="sign_in_failed", workstation="room-9")
    assert len(checked) == FREE_TRIES
    assert len(services.audit.events(staff["administrator"], action="sign_in_throttled",
                                     workstation="room-9")) == 8 - FREE_TRIES


def test_wrong_guesses_in_one_room_do_not_lock_the_supervisor_out_elsewhere(services: Services,
                                                                            staff: dict[str, Actor],
                                                                            clock: FakeClock) -> None:
    sid = ready_for_discharge(services, staff, clock)
    services.discharge.assess(staff["supervisor"], sid, confirmations=PERSON_OK, score_parts=PARTS_OK)
    for _ in range(6):
        with pytest.raises(AuthenticationFailed):
            services.staff.authenticate("sam", "not-the-password", "room-7")
    head = services.records.record(staff["medical"], sid).info.chain_head
    # The supervisor signs at room-1 straight away.
    services.discharge.sign(staff["supervisor"], sid, password=PASSWORD, seen_chain_head=head)
    assert services.staff.authenticate("sam", PASSWORD, "room-1").login == "sam"
    with pytest.raises(AuthenticationFailed, match="try again in"):
        services.staff.authenticate("sam", PASSWORD, "room-7")


def test_unknown_login_answers_like_a_known_one(services: Services, staff: dict[str, Actor]) -> None:
    def timed(login: str, n: int) -> float:
        start = time.perf_counter()
        with pytest.raises(AuthenticationFailed) as raised:
            services.staff.authenticate(login, "wrong-password", f"ws-{login}-{n}")
        assert str(raised.value) == "wrong login or password"
        return time.perf_counter() - start

    known = statistics.median(timed("nina", n) for n in range(5))
    unknown = statistics.median(timed("nobody-here", n) for n in range(5))
    # Both include an argon2 check (tens of ms); an unknown login no longer answers in a fraction of that.
    assert unknown > known * 0.5, (known, unknown)
    for _ in range(FREE_TRIES):
        with pytest.raises(AuthenticationFailed, match="^wrong login or password$"):
            services.staff.authenticate("nobody-here", "x" * 8, "room-3")
    with pytest.raises(AuthenticationFailed) as raised:
        services.staff.authenticate("nobody-here", "x" * 8, "room-3")
    assert "nobody" not in str(raised.value) and "try again in" in str(raised.value)


def test_a_password_typed_into_the_login_field_is_not_audited(services: Services, staff: dict[str, Actor]) -> None:
    for typed in ("Hunter2-secret!", "correct horse battery", "nina.secret123", "\ud800bad", "x" * 300):
        with pytest.raises(AuthenticationFailed):
            services.staff.authenticate(typed, "anything-at-all", "room-4")
    events = services.audit.events(staff["administrator"], workstation="room-4")
    assert len(events) == 5
    for event in events:
        assert event.actor_name == "" and event.detail == "unknown login"
        assert "secret" not in event.actor_name + event.detail and "horse" not in event.actor_name + event.detail
