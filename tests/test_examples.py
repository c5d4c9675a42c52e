"""The shipped demo tree shows every state of all three families, as the README promises."""

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
    "whatsapp/15550000011.14": ("paired", set()),
    "whatsapp/15550000012.2": ("broken", {"device-invalid"}),
    "session-helpdesk": ("paired", {"profile-lock-foreign"}),
}


def test_demo_tree_shows_every_state(cli):
    run = cli("check", "--json", "--deep", "--no-backup", EXAMPLES)  # the shipped tree stays as shipped
    assert run.code == 2
    sessions = by_id(run.json())
    found = {sid: (s["state"], codes(s) - {"pairing-abandoned"}) for sid, s in sessions.items()}
    assert found == EXPECTED
