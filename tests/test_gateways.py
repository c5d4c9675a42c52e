"""Gateway-aware discovery: each gateway's folders found from its application folder, sessions
named as the gateway names them, its own files left alone.

whatsapp-web.js, wppconnect and venom lay out their folders themselves (npm packages driving
Debian's chromium); WAHA, Evolution and the Go gateways are laid out from their source as
wadoctor/gateways/known.py documents, with stores written by Baileys (npm) and neonize.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import by_id, codes
from tests.fixtures import baileys, gateways
from tests.fixtures.whatsmeow import Device, add_devices


@pytest.fixture(scope="session")
def gateway_packages(real_chromium) -> None:
    try:
        gateways.ensure_packages()
    except gateways.GatewaysUnavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the real-gateway tests: {exc}")
        pytest.skip(str(exc))


def check(cli, *paths) -> dict:
    run = cli("check", "--json", "--no-backup", *paths)
    assert run.code in (0, 1, 2), run
    return run.json()


def depends_on(app: Path, package: str) -> None:
    """An app using `package`, installed as npm installs it (its node_modules names the version)."""
    (app / "package.json").write_text(json.dumps({"name": "my-bot", "version": "1.0.0",
                                                  "dependencies": {package: "*"}}))
    (app / "node_modules").symlink_to(gateways.NODE_DIR / "node_modules")


def test_whatsapp_web_js_localauth_app(tmp_path, cli, gateway_packages):
    app = tmp_path / "bot"
    gateways.lay_out("wwebjs-local", "shop", app)
    depends_on(app, "whatsapp-web.js")
    report = check(cli, app)
    assert [(g["name"], g["version"]) for g in report["gateways"]] == [("whatsapp-web.js", "1.34.7")]
    session = by_id(report)["session-shop"]
    assert session["format"] == "chromium"
    assert session["gateway"]["name"] == "whatsapp-web.js" and session["gateway"]["app"] == str(app)
    table = cli("check", "--no-backup", app)
    assert "gateway: whatsapp-web.js 1.34.7" in table.out and "chromium · whatsapp-web.js" in table.out


def test_remoteauth_backup_cut_by_a_crash_is_reported_and_quarantined(tmp_path, cli, gateway_packages):
    app = tmp_path / "bot"
    gateways.crash_during_backup("shop", app)
    auth = app / ".wwebjs_auth"
    assert (auth / "RemoteAuth-shop.zip").is_file() and (auth / "wwebjs_temp_session_shop").is_dir()
    depends_on(app, "whatsapp-web.js")
    fresh = check(cli, app)
    assert not [s for s in fresh["sessions"] if "remote-backup-leftover" in codes(s)]  # a backup in flight
    gateways.age_tree(auth, 3600)
    report = check(cli, app)
    leftovers = {s["path"]: s for s in report["sessions"] if s["format"] == "wwebjs-remote-backup"}
    assert set(leftovers) == {str(auth / "RemoteAuth-shop.zip"), str(auth / "wwebjs_temp_session_shop")}
    assert all(s["id"] == "RemoteAuth-shop" and "remote-backup-leftover" in codes(s) for s in leftovers.values())
    profile = [s for s in report["sessions"] if s["format"] == "chromium"]
    assert [s["id"] for s in profile] == ["RemoteAuth-shop"] and "duplicate-identity" not in codes(profile[0])
    fix = cli("fix", "--json", app)
    assert fix.code in (0, 1), fix
    assert not (auth / "RemoteAuth-shop.zip").exists() and not (auth / "wwebjs_temp_session_shop").exists()
    assert (auth / "RemoteAuth-shop").is_dir()  # the live profile is never touched
    entries = cli("quarantine", "list", "--json", auth).json()["entries"]
    assert len(entries) == len(leftovers) and len({e["run"] for e in entries}) == 1  # an entry each, one run
    assert cli("restore", "--last", "--root", auth).code == 0  # undoes the whole run
    assert (auth / "RemoteAuth-shop.zip").is_file() and (auth / "wwebjs_temp_session_shop" / "Default").is_dir()


def test_remoteauth_zip_that_does_not_open_is_store_corrupt(tmp_path, cli, gateway_packages):
    app = tmp_path / "bot"
    gateways.crash_during_backup("shop", app)
    archive = app / ".wwebjs_auth" / "RemoteAuth-shop.zip"
    archive.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    gateways.age_tree(app / ".wwebjs_auth", 3600)
    session = next(s for s in check(cli, app)["sessions"] if s["path"] == str(archive))
    assert "store-corrupt" in codes(session)


def test_wppconnect_session_with_its_tokens_file(tmp_path, cli, gateway_packages):
    app = tmp_path / "server"
    gateways.lay_out("wppconnect", "shop", app)
    depends_on(app, "@wppconnect-team/wppconnect")
    report = check(cli, app)
    session = by_id(report)["shop"]
    assert session["gateway"]["name"] == "wppconnect"
    tokens = session["gateway"]["tokens"]
    assert tokens["browser_id"] == "wadoctor-browser-id"
    assert tokens["fields"] == ["WABrowserId", "WASecretBundle", "WAToken1", "WAToken2"]
    for output in (cli("check", "--json", "--no-backup", app).out, cli("check", "-v", "--no-backup", app).out):
        assert "secret-token-1" not in output and "secret-bundle" not in output
    (app / "tokens" / "shop.data.json").write_text('{"WABrowserId": "x", "WAToken1": ')
    assert "gateway-tokens-corrupt" in codes(by_id(check(cli, app))["shop"])


def test_venom_session(tmp_path, cli, gateway_packages):
    app = tmp_path / "bot"
    gateways.lay_out("venom", "sales", app)
    depends_on(app, "venom-bot")
    session = by_id(check(cli, app))["sales"]
    assert session["format"] == "chromium" and session["gateway"]["name"] == "venom"


@pytest.fixture
def waha_app(tmp_path, real_baileys, neonize_store_template) -> Path:
    """WAHA's layout: a NOWEB (Baileys) and a GOWS (whatsmeow) session, WAHA's own database."""
    app = tmp_path / "waha"
    (app / "docker-compose.yml").parent.mkdir(parents=True)
    (app / "docker-compose.yml").write_text(
        "services:\n  waha:\n    image: docker.io/devlikeapro/waha:2024.11.3  # pinned\n"
        "    volumes:\n      - ./.sessions:/app/.sessions\n")
    baileys.write_sessions([baileys.paired(app / ".sessions" / "noweb" / "default", pn="15550000101", device=3)])
    (app / ".sessions" / "noweb" / "default" / ".waha.session.config.json").write_text("{}")
    gows = app / ".sessions" / "gows" / "support" / "gows.db"
    gows.parent.mkdir(parents=True)
    shutil.copy(neonize_store_template, gows)
    add_devices(gows, Device("15550000102", 7))
    own = sqlite3.connect(app / ".sessions" / "noweb" / "waha.sqlite3")
    own.execute("CREATE TABLE sessions (id TEXT)")
    own.commit()
    own.close()
    return app


def test_waha_sessions_found_from_the_app_folder_by_their_names(waha_app, cli):
    report = check(cli, waha_app)
    assert [(g["name"], g["version"]) for g in report["gateways"]] == [("waha", "2024.11.3")]
    sessions = by_id(report)
    assert set(sessions) == {"default", "support"}
    assert sessions["default"]["format"] == "baileys" and sessions["default"]["gateway"]["engine"] == "NOWEB"
    assert sessions["default"]["identity"]["jid"] == "15550000101:3@s.whatsapp.net"
    assert sessions["support"]["format"] == "whatsmeow" and sessions["support"]["gateway"]["engine"] == "GOWS"
    assert sessions["support"]["identity"]["jid"] == "15550000102:7@s.whatsapp.net"
    assert sessions["support"]["path"] == str(waha_app / ".sessions" / "gows" / "support" / "gows.db")
    # the same names when the user points at the sessions folder itself
    assert set(by_id(check(cli, waha_app / ".sessions"))) == {"default", "support"}


def test_other_hidden_folders_and_node_modules_stay_skipped(tmp_path, cli, real_baileys):
    app = tmp_path / "app"
    baileys.write_sessions([baileys.paired(app / ".cache" / "old", pn="15550000103"),
                            baileys.paired(app / "node_modules" / "pkg" / "auth", pn="15550000104"),
                            baileys.paired(app / "instances" / "b2f0c1d4", pn="15550000105")])
    (app / "compose.yaml").write_text("services:\n  api:\n    image: atendai/evolution-api:v2.1.1\n")
    report = check(cli, app)
    assert [(g["name"], g["version"]) for g in report["gateways"]] == [("evolution-api", "v2.1.1")]
    assert [(s["id"], s["gateway"]["name"]) for s in report["sessions"]] == [("b2f0c1d4", "evolution-api")]


def test_baileys_rest_servers_name_sessions_without_their_prefixes(tmp_path, cli, real_baileys):
    app = tmp_path / "api"
    baileys.write_sessions([baileys.paired(app / "sessions" / "md_shop", pn="15550000106"),
                            baileys.paired(app / "wa_credentials" / "sales_credentials", pn="15550000107")])
    sessions = by_id(check(cli, app))
    assert sessions["shop"]["gateway"]["name"] == "baileys-api"
    assert sessions["sales"]["gateway"]["name"] == "wa-multi-session"


def test_wuzapi_devices_named_by_its_users_table_and_tokens_never_shown(tmp_path, cli, neonize_store_template):
    app = tmp_path / "wuzapi"
    store = app / "dbdata" / "users.db"
    store.parent.mkdir(parents=True)
    shutil.copy(neonize_store_template, store)
    alice, bob = Device("15550000108", 4), Device("15550000109", 9)
    add_devices(store, alice, bob)
    db = sqlite3.connect(store)
    db.execute("CREATE TABLE users (id TEXT PRIMARY KEY, name TEXT, token TEXT, jid TEXT)")
    db.executemany("INSERT INTO users VALUES (?, ?, ?, ?)", [("1", "alice", "tok-secret-1", alice.jid),
                                                             ("2", "bob", "tok-secret-2", bob.jid)])
    db.commit()
    db.close()
    (app / "go.mod").write_text("module wuzapi\n\ngo 1.23\n")
    run = cli("check", "--json", "--no-backup", app)
    report = run.json()
    assert [g["name"] for g in report["gateways"]] == ["wuzapi"]
    sessions = by_id(report)
    assert sessions["alice"]["identity"]["jid"] == alice.jid and sessions["bob"]["identity"]["jid"] == bob.jid
    assert "tok-secret" not in run.out


def test_go_whatsapp_chat_storage_is_not_a_store(whatsmeow_store, cli):
    app = whatsmeow_store.parent.parent
    add_devices(whatsmeow_store, Device("15550000110", 2))
    chats = sqlite3.connect(app / "storages" / "chatstorage.db")
    chats.execute("CREATE TABLE chats (jid TEXT)")
    chats.commit()
    chats.close()
    (app / "go.mod").write_text("module github.com/aldinokemal/go-whatsapp-web-multidevice\n")
    report = check(cli, app)
    assert [g["name"] for g in report["gateways"]] == ["go-whatsapp-web-multidevice"]
    assert [s["path"] for s in report["sessions"]] == [str(whatsmeow_store)]


def test_an_evolution_instance_folder_with_keys_only_is_its_normal_shape(tmp_path, cli, real_baileys):
    """Evolution API v2 keeps creds in its database (use-multi-file-auth-state-prisma.ts) and only
    the key files in instances/<id>/: no creds-missing where Evolution is recognised."""
    app = tmp_path / "evolution"
    instance = app / "instances" / "4f2a9c1e-0b7d-4c3e-9a55-1d2e3f4a5b6c"
    baileys.write_sessions([baileys.paired(instance, pn="15550000110")])
    (instance / "creds.json").unlink()
    bare = check(cli, app)  # not yet recognised: a keys-only folder may have lost its creds
    assert "creds-missing" in {f["code"] for s in bare["sessions"] for f in s["findings"]}
    (app / "compose.yaml").write_text("services:\n  api:\n    image: atendai/evolution-api:v2.2.3\n")
    run = cli("check", "--json", app)
    session, = run.json()["sessions"]
    assert session["gateway"]["name"] == "evolution-api" and session["gateway"]["creds"].startswith("its database")
    assert session["state"] == "keys-only" and session["findings"] == [] and run.code == 0
