"""Discharge dialog defects found by hand: who is discharged, criteria after signing, rating labels clipped."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel, QSpinBox

from kapconsole.domain.enums import SessionState
from kapconsole.domain.values import Actor
from kapconsole.services import Services
from kapconsole.ui.shell.app_state import AppState
from kapconsole.ui.widgets import theme
from tests.conftest import PASSWORD, FakeClock, make_staff
from tests.data.helpers import PARTS_OK, PERSON_OK, ready_for_discharge
from tests.ui.shell_support import OFFSCREEN_SIZE_HINTS
from tests.ui.test_discharge_view import criteria_rows, open_dialog, start_signing, wait_idle

pytestmark = OFFSCREEN_SIZE_HINTS
NAME = "Zoë <b>Okafor</b> & 王小明"


@pytest.fixture
def staff(sqlite_services: Services) -> dict[str, Actor]:
    return make_staff(sqlite_services)


@pytest.fixture
def state(sqlite_services: Services) -> Iterator[AppState]:
    app_state = AppState(sqlite_services, "supervisor-desk")
    yield app_state
    app_state.runner.wait(10000)


def _assessed(services: Services, staff: dict[str, Actor], clock: FakeClock) -> int:
    services.clinic.add_client(staff["therapist"], identifier="KAP-77", name=NAME, date_of_birth=date(1984, 3, 2))
    sid = ready_for_discharge(services, staff, clock, identifier="KAP-77")
    services.discharge.assess(staff["medical"], sid, confirmations=PERSON_OK, score_parts=PARTS_OK)
    return sid


def test_dialogs_name_the_client_in_full_and_criteria_stay_after_signing(
        qtbot, sqlite_services: Services, staff: dict[str, Actor], clock: FakeClock, state: AppState) -> None:
    sid = _assessed(sqlite_services, staff, clock)
    dialog = open_dialog(qtbot, state, staff["supervisor"], sid)
    identity = f"{NAME} · born 1984-03-02 · KAP-77"
    assert dialog.client.text() == identity and "ZO" not in dialog.heading.text()
    before = criteria_rows(dialog)
    assert len(before) > 5
    signature = start_signing(qtbot, dialog)
    assert signature.findChild(QLabel, "signatureClient").text() == identity
    qtbot.keyClicks(signature.password, PASSWORD)
    with qtbot.waitSignal(signature.finished, timeout=10000):
        qtbot.mouseClick(signature.sign_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.record.info.state is SessionState.DISCHARGED, timeout=10000)
    after = criteria_rows(dialog)
    assert {k: v[0] for k, v in after.items()} == {k: v[0] for k, v in before.items()}
    assert "as assessed at" in dialog.summary.text()
    wait_idle(qtbot, state)


@pytest.mark.parametrize("night", [False, True])
def test_rating_labels_are_never_clipped(qtbot, sqlite_services: Services, staff: dict[str, Actor],
                                         clock: FakeClock, state: AppState, night: bool) -> None:
    sid = _assessed(sqlite_services, staff, clock)
    theme.apply_theme(night, QApplication.instance())  # type: ignore[arg-type]
    try:
        dialog = open_dialog(qtbot, state, staff["medical"], sid)
        dialog.resize(1280, 760)
        qtbot.wait(50)
        labels = [w for w in dialog.findChildren(QLabel) if isinstance(w.buddy(), QSpinBox)]
        assert len(labels) == len(dialog.spins)
        for label in labels:
            assert label.height() >= label.heightForWidth(label.width()), (label.text(), night)
        wait_idle(qtbot, state)
    finally:
        theme.apply_theme(False, QApplication.instance())  # type: ignore[arg-type]
