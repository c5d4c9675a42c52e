"""A bug in one check or adapter becomes a `check-crashed` finding; the run goes on."""

from __future__ import annotations

import shutil

from tests.conftest import EXAMPLES
from wadoctor.config import Config
from wadoctor.pipeline.diagnosis import POLICY_CHECKS, diagnose
from wadoctor.pipeline.discovery import Discovery
from wadoctor.pipeline.report import Report
from wadoctor.stores.adapters import ADAPTERS
from wadoctor.stores.baileys import BaileysMultiFile
from wadoctor.util.exitcodes import ExitCode


def _explodes(session, config, now):
    raise ZeroDivisionError("boom")


def test_a_crashing_check_is_a_finding_and_other_checks_still_run(tmp_path):
    shutil.copytree(EXAMPLES / "new-kiosk", tmp_path / "kiosk")
    session, = Discovery(ADAPTERS, 4).sessions([tmp_path])
    session = diagnose(session, Config(pairing_abandoned_minutes=0), now=session.last_activity + 3600,
                       checks=(_explodes, *POLICY_CHECKS))
    found = {f.code: f for f in session.findings}
    assert set(found) == {"check-crashed", "unpaired", "pairing-abandoned"}
    assert "ZeroDivisionError: boom" in found["check-crashed"].message
    assert found["check-crashed"].evidence.as_dict()["check"] == "explodes"
    report = Report("check", [session])
    assert not report.complete and report.exit_code() is ExitCode.INCOMPLETE


class _BrokenAdapter(BaileysMultiFile):
    def read_dir(self, path, listing, deep):
        if path.name == "bad":
            raise KeyError("surprise")
        return super().read_dir(path, listing, deep)


def test_a_crashing_adapter_names_the_session_and_the_scan_goes_on(tmp_path):
    shutil.copytree(EXAMPLES / "shop-main", tmp_path / "bad")
    shutil.copytree(EXAMPLES / "shop-main", tmp_path / "good")
    sessions = {s.id: s for s in Discovery([_BrokenAdapter()], 4).sessions([tmp_path])}
    assert sessions["good"].state.value == "paired"
    crash, = sessions["bad"].observations
    assert crash.code == "check-crashed" and "KeyError" in crash.message
