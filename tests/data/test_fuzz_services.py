"""Every public service method, called with arguments of its declared types and hostile values (lone surrogates,
NUL, huge integers, naive datetimes, unknown ids, very long text): a result or one of the project's own errors,
never anything else. ``KAPCONSOLE_FUZZ_EXAMPLES`` sets the examples per method (``make fuzz`` raises it)."""

from __future__ import annotations

import inspect
import os
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime, timedelta, timezone
from enum import Enum
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kapconsole.domain.errors import DomainError
from kapconsole.domain.protocol import ProtocolSettings
from kapconsole.domain.values import Actor
from kapconsole.services import Services
from tests.conftest import PASSWORD, FakeClock, make_staff
from tests.data.helpers import dosed
from tests.data.rems_helpers import PREDOSE_ANSWERS, esketamine_checklist_done

EXAMPLES = int(os.environ.get("KAPCONSOLE_FUZZ_EXAMPLES", "12"))
#: Methods left out, and why: writing files, rendering PDFs (covered by the report tests), process plumbing.
SKIP = {"write", "pdf", "build", "close", "upgrade", "open", "now", "preview"}
SERVICES = ("staff", "clinic", "records", "discharge", "integrity", "audit", "board", "monitor", "rems")

HOSTILE_TEXT = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", " ", "\x00", "a\x00b", "\ud800", "x\udfff", "Ωμέγα नमस्ते 你好 🎉", "'; DROP TABLE x; --",
                     "%", "_", "\\", "x" * 129, "y" * 5000, "kapdemo1", PASSWORD, "nina", "sam", "consent",
                     "sublingual", "nausea", "mild", "moaas", "general", "client_request", "checklist"]),
    st.just("z" * 1_000_000),
)
HOSTILE_INT = st.one_of(st.integers(-3, 60), st.sampled_from([0, -1, 2**31, 2**63, -(2**63), 10**400]))
HOSTILE_FLOAT = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([0.0, 200.0, 1e308]))
TIMES = st.one_of(
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),  # naive
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)),
    st.just(datetime.now(UTC)), st.just(datetime.now(timezone(timedelta(hours=-11)))), st.just(datetime.now()),
)


def strategy_for(tp: Any, actors: list[Actor]) -> st.SearchStrategy[Any] | None:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Actor:
        return st.sampled_from(actors)
    if origin in (typing.Union, types.UnionType):
        parts = [strategy_for(a, actors) for a in args]
        if any(p is None for p in parts):
            return None
        return st.one_of(*parts)  # type: ignore[arg-type]
    if tp is type(None):
        return st.none()
    if tp is str:
        return HOSTILE_TEXT
    if tp is bool:
        return st.booleans()
    if tp is int:
        return HOSTILE_INT
    if tp is float:
        return st.one_of(HOSTILE_FLOAT, HOSTILE_INT)
    if tp is datetime:
        return TIMES
    if tp is date:
        return st.dates()
    if tp is object or tp is Any:
        return st.one_of(HOSTILE_INT, HOSTILE_FLOAT, HOSTILE_TEXT, st.none())
    if tp is ProtocolSettings:
        return st.just(ProtocolSettings())
    if isinstance(tp, type) and issubclass(tp, Enum):
        return st.sampled_from(list(tp))
    if origin in (Mapping, dict, typing.Mapping):
        keys = st.one_of(st.sampled_from(["sbp", "dbp", "hr", "spo2", "rr", "temp", "text", "oriented",
                                          "aldrete_activity", "padss_pain", "category"]), HOSTILE_TEXT)
        values = st.one_of(HOSTILE_INT, HOSTILE_FLOAT, HOSTILE_TEXT, st.booleans(), st.none())
        return st.dictionaries(keys, values, max_size=6)
    if origin in (list, Iterable, typing.Iterable, tuple) or tp in (list, tuple):
        inner = strategy_for(args[0], actors) if args else st.integers()
        return None if inner is None else st.lists(inner, max_size=4)
    return None


def public_methods(services: Services) -> list[tuple[str, Callable[..., Any]]]:
    found = []
    for name in SERVICES:
        service = getattr(services, name)
        for attr, method in inspect.getmembers(service, inspect.ismethod):
            if attr.startswith("_") or attr in SKIP:
                continue
            found.append((f"{name}.{attr}", method))
    return found


def arguments(method: Callable[..., Any], actors: list[Actor]) -> st.SearchStrategy[dict[str, Any]] | None:
    hints = typing.get_type_hints(method)
    fields: dict[str, st.SearchStrategy[Any]] = {}
    optional: dict[str, st.SearchStrategy[Any]] = {}
    for pname, param in inspect.signature(method).parameters.items():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        strategy = strategy_for(hints.get(pname, Any), actors)
        if strategy is None:
            return None
        (optional if param.default is not param.empty else fields)[pname] = strategy
    return st.fixed_dictionaries(fields, optional=optional)


@pytest.fixture
def fuzz_target(services: Services, clock: FakeClock) -> tuple[Services, list[Actor], int]:
    staff = make_staff(services)
    sid = dosed(services, staff, clock)
    # An esketamine session with its pre-dose REMS answers, so the REMS methods reach past "not esketamine".
    esk = esketamine_checklist_done(services, staff, clock, identifier="ESK-FUZZ")
    services.rems.record_answers(staff["medical"], esk, PREDOSE_ANSWERS)
    forged = Actor(staff["therapist"].staff_id, "theo", "Theo", frozenset(), "room-1" * 40)
    return services, [*staff.values(), forged], sid


def test_every_public_service_method_answers_hostile_input(fuzz_target: tuple[Services, list[Actor], int]) -> None:
    services, actors, _sid = fuzz_target
    unexpected: list[str] = []
    covered = 0
    for name, method in public_methods(services):
        strategy = arguments(method, actors)
        if strategy is None:
            continue
        covered += 1

        _run(name, method, strategy, unexpected)
    assert covered >= 30, covered
    assert not unexpected, "\n".join(unexpected[:40])


def _run(name: str, method: Callable[..., Any], strategy: st.SearchStrategy[dict[str, Any]],
         unexpected: list[str]) -> None:
    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(kwargs=strategy)
    def call(kwargs: dict[str, Any]) -> None:
        try:
            method(**kwargs)
        except DomainError:
            pass
        except Exception as exc:  # the point of the test: anything else is a crash
            unexpected.append(f"{name}({_short(kwargs)}): {type(exc).__name__}: {str(exc)[:160]}")

    call()


def _short(kwargs: dict[str, Any]) -> str:
    return ", ".join(f"{k}={(repr(v)[:40])}" for k, v in kwargs.items())
