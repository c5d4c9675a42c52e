"""The shipped demo tree shows every state of all three families, as the README promises."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import EXAMPLES, by_id, codes

EXPECTED = {
    "shop-main": ("paired", set()),
    "support-bot": ("broken", {"creds-empty"}),
    "sales": ("broken", {"creds-corrupt"}),
    "marketing": ("paired", {"key-file-corrupt", "leftover-temp"}),
    "alerts": ("reset", {"creds-reset"}),
    "new-kiosk": ("unpaired", {"unpaired"}),
    "onboarding": ("half-paired", {"half-paired"}),
    "evolution-7": ("keys-only", {"creds-missing"}),
    "auth_info_multi": ("paired", set()),
    "whatsapp/15550000011.14": ("paired", set()),
    "whatsapp/15550000012.2": ("broken", {"device-invalid"}),
    "session-helpdesk": ("paired", {"profile-lock-foreign"}),
    "billing": ("broken", {"creds-empty"}),
}


def test_demo_tree_shows_every_state(cli):
    run = cli("check", "--json", "--deep", "--no-backup", EXAMPLES)  # the shipped tree stays as shipped
    assert run.code == 2
    sessions = by_id(run.json())
    found = {sid: (s["state"], codes(s) - {"pairing-abandoned"}) for sid, s in sessions.items()}
    assert found == EXPECTED


def test_the_demo_shows_the_headline_repair_and_its_undo(tmp_path, cli):
    """A copy of the demo: fix restores billing's emptied creds from the backup check kept, and
    restore --last puts everything the run moved back."""
    import shutil

    demo = Path(shutil.copytree(EXAMPLES, tmp_path / "sessions", symlinks=True))
    fixed = cli("fix", "--json", demo)
    restored = [a for a in fixed.json()["actions"] if a["session"] == "billing"]
    assert [(a["action"], a["status"]) for a in restored] == [("restore-creds", "done")]
    assert by_id(cli("check", "--json", "--no-backup", demo).json())["billing"]["state"] == "paired"
    undo = cli("restore", "--last", "--root", demo)  # the restored creds.json is in the way: never overwritten
    assert undo.code == 1 and "billing/creds.json exists again" in undo.err
    assert cli("restore", "--last", "--force", "--root", demo).code == 0  # ...unless asked: it is quarantined in turn
    assert (demo / "billing" / "creds.json").stat().st_size == 0  # as shipped again
