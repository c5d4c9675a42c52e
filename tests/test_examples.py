"""The shipped demo tree shows every Baileys state, as the README promises."""

from __future__ import annotations

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
}


def test_demo_tree_shows_every_state(cli):
    run = cli("check", "--json", "--deep", EXAMPLES)
    assert run.code == 2
    sessions = by_id(run.json())
    found = {sid: (s["state"], codes(s) - {"pairing-abandoned"}) for sid, s in sessions.items()}
    assert found == EXPECTED
