"""Auth state in databases: Evolution API v2 (PostgreSQL + key folders or Redis hashes) and Baileys
auth states in Redis, on real servers, filled with creds and keys real Baileys wrote."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time

import pytest

from tests.conftest import REPO, by_id, codes
from tests.fixtures import evolution
from tests.fixtures.baileys import paired


def _unpaired(path):
    return {"dir": path, "kind": "unpaired"}


def _config(tmp_path, text):
    config = tmp_path / "wadoctor.toml"
    config.write_text(text)
    return config


def test_evolution_rows_join_key_folders(tmp_path, write, cli, evolution_db):
    """The check Evolution users run: its database and its instances folder together."""
    url, conn = evolution_db
    shop, kiosk, new = write(paired(tmp_path / "w" / "shop"), paired(tmp_path / "w" / "kiosk", pn="6289999999999",
                                                                     device=3), _unpaired(tmp_path / "w" / "new"))
    instances = tmp_path / "evolution" / "instances"
    a = evolution.add_instance(conn, "shop", shop.path, "open", owner=shop.jid)
    b = evolution.add_instance(conn, "kiosk", kiosk.path, "connecting", minutes_ago=30)
    c = evolution.add_instance(conn, "closed", kiosk.path, "close")
    evolution.add_instance(conn, "fresh", new.path, "connecting")
    for instance, folder in ((a, shop.path), (b, kiosk.path), (c, kiosk.path)):
        evolution.key_folder(instance, folder, instances)
    leftover = evolution.key_folder(evolution.Instance("0f1e2d3c", "gone", {}), shop.path, instances)

    run = cli("check", "--json", "--no-backup", url, instances)
    sessions = by_id(run.json())
    assert sessions["shop"]["identity"]["jid"] == shop.jid
    assert sessions["shop"]["state"] == "paired" and sessions["shop"]["path"] == str(instances / a.id)
    assert sessions["shop"]["connection"]["status"] == "open"
    assert sessions["shop"]["gateway"]["instance_id"] == a.id and sessions["shop"]["files"] > 30
    assert "creds-missing" not in codes(sessions["shop"])  # the database completes the folder
    assert "instance-stuck-connecting" in codes(sessions["kiosk"])
    assert "instance-stuck-connecting" not in codes(sessions["fresh"])  # connecting for a moment only
    assert sessions["fresh"]["state"] == "unpaired"
    assert "instance-closed-paired" in codes(sessions["closed"])
    orphan = sessions[leftover.name]
    assert codes(orphan) == {"instance-orphan"} and orphan["path"] == str(leftover)
    # kiosk and closed carry one device: one of them is a copy of the other
    assert "duplicate-identity" in codes(sessions["kiosk"]) and "duplicate-identity" in codes(sessions["closed"])
    assert run.code == 1

    table = cli("check", "--no-backup", url, instances)
    assert "evolution-api" in table.out and "Evolution API (connectionStatus open)" in table.out


def test_evolution_keys_in_redis_and_orphans_both_ways(tmp_path, write, cli, evolution_db, redis_server):
    url, conn = evolution_db
    shop, other = write(paired(tmp_path / "w" / "shop"), paired(tmp_path / "w" / "other", pn="15550001111"))
    client = redis_server.client(3)
    a = evolution.add_instance(conn, "shop", shop.path, "open")
    evolution.add_instance(conn, "lost", other.path, "open")  # paired, but its hash is gone
    evolution.key_hash(client, a, prefix="evo")
    stray = evolution.key_hash(client, evolution.Instance("deleted-id", "x", evolution.encoded(other.path)), "evo")
    entry = next(k["entry"] for k in a.values["keys"] if k["entry"].startswith("session-"))
    client.hset(f"evo:instance:{a.id}", entry, a.values["keys"][0]["hash"][:40])  # cut short
    config = _config(tmp_path, f'[[stores]]\nurl = "{url}"\nredis = "{redis_server.url(3)}"\nprefix = "evo"\n')

    plain = by_id(cli("check", "--json", "--no-backup", "-c", config).json())
    assert plain["shop"]["state"] == "paired" and plain["shop"]["files"] == len(a.values["keys"])
    assert "key-file-corrupt" not in codes(plain["shop"])  # a plain check counts keys in Redis
    assert "instance-orphan" in codes(plain["lost"])
    assert codes(plain["deleted-id"]) == {"instance-orphan"} and stray in plain["deleted-id"]["path"]
    deep = by_id(cli("check", "--json", "--no-backup", "--deep", "-c", config).json())
    assert "key-file-corrupt" in codes(deep["shop"])
    assert redis_server.password not in json.dumps(deep)


def test_database_backups_walk_their_folder_once_and_still_refuse_a_planted_link(tmp_path, write, cli,
                                                                                evolution_db):
    """A run opens the folder of database backups once and each instance's folder from it:
    a session's folder that is a link (to a folder outside, as a tenant could plant) is still
    refused, that session's backup is a problem and nothing is written through the link, and
    the instances beside it are backed up. A databases folder others may write is refused
    for every instance."""
    url, conn = evolution_db
    shop, cafe = write(paired(tmp_path / "w" / "shop"), paired(tmp_path / "w" / "cafe", pn="6289876543210"))
    for name, session in (("shop", shop), ("cafe", cafe)):
        evolution.add_instance(conn, name, session.path, "open")
    config = _config(tmp_path, f'[[stores]]\nurl = "{url}"\n')
    assert cli("check", "-c", config).code == 0
    databases = tmp_path / ".wadoctor" / "backups" / "databases"
    (shop_folder,), (cafe_folder,) = databases.glob("shop-*"), databases.glob("cafe-*")
    for folder in (shop_folder, cafe_folder):
        for old in folder.iterdir():
            old.unlink()
        folder.rmdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    shop_folder.symlink_to(outside)
    report = cli("check", "--json", "-c", config).json()
    problem, = report["problems"]
    assert shop_folder.name in problem["message"] and "symbolic link" in problem["message"]
    assert list(outside.iterdir()) == []
    assert len(list(cafe_folder.glob("creds-*.json"))) == 1

    shop_folder.unlink()
    databases.chmod(0o777)
    refused = cli("check", "--json", "-c", config).json()
    assert refused["problems"] and all("writable by group or others" in p["message"] for p in refused["problems"])
    assert not list(databases.glob("shop-*"))


def test_evolution_reset_creds_are_restored_compare_and_set(tmp_path, write, cli, evolution_db):
    """Evolution's own failure: a read of the creds times out, it saves fresh creds over the
    paired ones. fix puts the backup back, refusing while Evolution says the instance is live."""
    url, conn = evolution_db
    shop, fresh = write(paired(tmp_path / "w" / "shop"), _unpaired(tmp_path / "w" / "fresh"))
    instances = tmp_path / "instances"
    a = evolution.add_instance(conn, "shop", shop.path, "open")
    evolution.key_folder(a, shop.path, instances)
    config = _config(tmp_path, f'[[stores]]\nurl = "{url}"\ninstances = ["instances"]\n')
    assert cli("check", "-c", config).code == 0  # keeps a verified backup beside the config
    backups = list((tmp_path / ".wadoctor" / "backups" / "databases").glob("shop-*/creds-*.json"))
    assert len(backups) == 1 and oct(backups[0].stat().st_mode)[-3:] == "600"

    conn.execute('UPDATE "Session" SET creds = %s WHERE "sessionId" = %s',
                 (evolution.encoded(fresh.path)["creds"]["evolution"], a.id))
    broken = by_id(cli("check", "--json", "-c", config).json())["shop"]
    assert broken["state"] == "reset" and "creds-reset" in codes(broken)

    held = cli("fix", "--json", "-c", config)
    assert held.json()["actions"][0]["status"] == "skipped" and "connectionStatus open" in held.out
    conn.execute("""UPDATE "Instance" SET "connectionStatus" = 'close' WHERE id = %s""", (a.id,))
    fixed = cli("fix", "--json", "-c", config)
    action = fixed.json()["actions"][0]
    assert action["status"] == "done", fixed
    row = conn.execute('SELECT creds FROM "Session" WHERE "sessionId" = %s', (a.id,)).fetchone()[0]
    assert json.loads(json.loads(row))["me"]["id"] == shop.jid
    after = by_id(cli("check", "--json", "--no-backup", "-c", config).json())["shop"]
    assert after["state"] == "paired"
    assert action["quarantine"] in cli("quarantine", "list", "-c", config).out
    entry = tmp_path / ".wadoctor" / "quarantine" / action["quarantine"]
    kept = next((entry / "files").iterdir())
    assert json.loads(kept.read_text())["noiseKey"] == json.loads(
        json.loads(evolution.encoded(fresh.path)["creds"]["evolution"]))["noiseKey"]


def test_restore_refuses_a_row_changed_since_it_was_read(tmp_path, write, evolution_db):
    """Compare-and-set: the gateway rewrote the row between the check and the repair."""
    from wadoctor.app.check import inspect
    from wadoctor.app.targets import targets
    from wadoctor.config import load_config
    from wadoctor.repair.execute import execute
    from wadoctor.repair.plan import FixOptions, plan_session

    url, conn = evolution_db
    shop, fresh, other = write(paired(tmp_path / "w" / "shop"), _unpaired(tmp_path / "w" / "fresh"),
                               _unpaired(tmp_path / "w" / "other"))
    a = evolution.add_instance(conn, "shop", shop.path, "close")
    evolution.key_folder(a, shop.path, tmp_path / "instances")
    config = load_config(_config(tmp_path, f'[[stores]]\nurl = "{url}"\ninstances = ["instances"]\n'))
    paths, sources = targets(None, config)
    inspect(paths, config, "check", keep_backups=True, sources=sources)
    conn.execute('UPDATE "Session" SET creds = %s WHERE "sessionId" = %s',
                 (evolution.encoded(fresh.path)["creds"]["evolution"], a.id))
    report = inspect(paths, config, "fix", sources=sources)
    actions = plan_session(report.sessions[0], FixOptions(), config)
    meanwhile = evolution.encoded(other.path)["creds"]["evolution"]
    conn.execute('UPDATE "Session" SET creds = %s WHERE "sessionId" = %s', (meanwhile, a.id))
    execute(actions, force=False)
    assert actions[0].status == "failed" and "changed since it was read" in actions[0].result
    row = conn.execute('SELECT creds FROM "Session" WHERE "sessionId" = %s', (a.id,)).fetchone()[0]
    assert row == meanwhile
    assert not (tmp_path / ".wadoctor" / "quarantine").exists() or not any(
        (tmp_path / ".wadoctor" / "quarantine").iterdir())


def test_redis_layouts_of_the_common_packages(tmp_path, write, cli, redis_server):
    """baileys-redis-auth (hash and key-per-entry) and redis-baileys (byte-list Buffers), and one
    device found in Redis and in a folder: a duplicate identity across sources."""
    shop, other = write(paired(tmp_path / "shop"), paired(tmp_path / "w" / "other", pn="15550002222"))
    values = evolution.encoded(shop.path)
    client = redis_server.client(5)
    client.hset("bot:shop:auth", mapping={"creds": values["creds"]["hash"],
                                          **{k["entry"]: k["hash"] for k in values["keys"]}})
    other_values = evolution.encoded(other.path)
    client.set("bot:other:creds", other_values["creds"]["hash"])
    for k in other_values["keys"]:
        client.set(f"bot:other:{k['entry']}", k["hash"])
    client.set("rb:wa:sess:x:auth_creds", other_values["creds"]["bytelist"])
    for k in other_values["keys"]:
        client.set(f"rb:wa:sess:x:{k['entry']}", k["bytelist"])
    damaged = next(k["entry"] for k in other_values["keys"] if k["entry"].startswith("pre-key-"))
    client.set(f"bot:other:{damaged}", "")

    run = cli("check", "--json", "--no-backup", f"{redis_server.url(5)}?prefix=bot:", tmp_path / "shop")
    sessions = {s["path"]: s for s in run.json()["sessions"]}
    in_redis = next(s for p, s in sessions.items() if p.endswith("bot:shop:auth"))
    assert in_redis["id"] == "shop" and in_redis["identity"]["jid"] == shop.jid
    assert in_redis["files"] == len(values["keys"]) + 1
    assert "duplicate-identity" in codes(in_redis) and "duplicate-identity" in codes(sessions[str(shop.path)])
    keyed = next(s for p, s in sessions.items() if p.endswith("bot:other:*"))
    assert keyed["state"] == "paired" and keyed["key_files"]["pre-key"] > 0
    assert "key-file-corrupt" not in codes(keyed)
    assert all(redis_server.password not in s["path"] for s in sessions.values())

    deep = cli("check", "--json", "--no-backup", "--deep", f"{redis_server.url(5)}?prefix=bot:")
    keyed = next(s for s in deep.json()["sessions"] if s["path"].endswith("bot:other:*"))
    assert "key-file-corrupt" in codes(keyed) and damaged in keyed["findings"][0]["message"] + json.dumps(
        keyed["findings"])

    bytelists = by_id(cli("check", "--json", "--no-backup", f"{redis_server.url(5)}?prefix=rb:").json())
    assert bytelists["wa:sess:x"]["identity"]["jid"] == other.jid and bytelists["wa:sess:x"]["state"] == "paired"

    bloat = _config(tmp_path, "[thresholds]\nbloat_files = 10\n")
    assert "bloat" in codes(by_id(cli("check", "--json", "--no-backup", "-c", bloat,
                                      f"{redis_server.url(5)}?prefix=bot:").json())["shop"])


def test_redis_creds_emptied_are_restored(tmp_path, write, cli, redis_server):
    shop, = write(paired(tmp_path / "w" / "shop"))
    values = evolution.encoded(shop.path)
    client = redis_server.client(6)
    client.set("rb:shop:auth_creds", values["creds"]["bytelist"])
    for k in values["keys"]:
        client.set(f"rb:shop:{k['entry']}", k["bytelist"])
    config = _config(tmp_path, f'[[stores]]\nurl = "{redis_server.url(6, with_password=False)}"\n'
                               'prefix = "rb:"\npassword_env = "GATEWAY_REDIS_PASSWORD"\n')
    env = {"GATEWAY_REDIS_PASSWORD": redis_server.password}
    assert cli("check", "-c", config, env=env).code == 0
    client.set("rb:shop:auth_creds", "")
    assert "creds-empty" in cli("check", "-q", "-c", config, env=env).out
    fixed = cli("fix", "--json", "-c", config, env=env)
    assert fixed.json()["actions"][0]["status"] == "done", fixed
    restored = json.loads(client.get("rb:shop:auth_creds"))
    assert isinstance(restored["noiseKey"]["public"]["data"], list)  # what redis-baileys' reader needs
    assert by_id(cli("check", "--json", "-c", config, env=env).json())["shop"]["state"] == "paired"
    for output in (fixed.out, fixed.err):
        assert redis_server.password not in output


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_unreachable_or_foreign_sources_are_one_line_and_exit_3(tmp_path, write, cli, postgres):
    shop, = write(paired(tmp_path / "shop"))
    port = _closed_port()
    down = f"postgresql://evo:TopSecret1@127.0.0.1:{port}/evolution?schema=evolution_api"
    started = time.monotonic()
    run = cli("check", "--no-backup", down, f"redis://:TopSecret2@127.0.0.1:{port}/0", tmp_path / "shop")
    assert time.monotonic() - started < 20
    assert run.code == 3 and "shop" in run.out
    assert f"postgresql://evo@127.0.0.1:{port}/evolution?schema=evolution_api: cannot connect" in run.err
    assert f"redis://127.0.0.1:{port}/0: cannot connect" in run.err
    assert "TopSecret" not in run.out + run.err

    foreign = cli("check", "--json", "--no-backup", postgres.url)  # a database, but not Evolution's
    problem = foreign.json()["problems"][0]
    assert foreign.code == 3 and 'not an Evolution API database: no table "Instance"' in problem["message"]

    bad = cli("check", "mysql://x@db/evolution")  # not a scheme wadoctor reads: a path that does not exist
    assert bad.code == 3


def test_plain_commands_never_import_the_database_drivers(tmp_path):
    code = ("import sys; from wadoctor.cli import main\n"  # main(ARGS) ends by SystemExit: the probe outlives it
            "try:\n    main(['check', '--no-backup', sys.argv[1]])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('psycopg', 'redis')))")
    result = subprocess.run([sys.executable, "-c", code, str(REPO / "examples" / "sessions")], capture_output=True,
                            text=True, cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=60)
    assert result.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize("text, message", [
    ('[[stores]]\nkind = "evolution"\n', "needs a url"),
    ('[[stores]]\nurl = "redis://h/0"\nkind = "evolution"\n', "is not read from a redis:// URL"),
    ('[[stores]]\nurl = "postgresql://h/db"\nflavour = "x"\n', "unknown key 'stores.flavour'"),
])
def test_bad_store_config_is_one_line_exit_78(tmp_path, cli, text, message):
    run = cli("check", "-c", _config(tmp_path, text))
    assert run.code == 78 and message in run.err and len(run.err.strip().splitlines()) == 1


def test_names_from_a_database_never_leave_the_backup_folder(tmp_path, write, cli, redis_server):
    """A session name is outside text: `../../x` names a backup folder, it does not climb."""
    shop, = write(paired(tmp_path / "w" / "shop"))
    values = evolution.encoded(shop.path)
    client = redis_server.client(7)
    client.hset("bot:../../escape:auth", mapping={"creds": values["creds"]["hash"],
                                                   **{k["entry"]: k["hash"] for k in values["keys"]}})
    home = tmp_path / "conf" / "deep"
    home.mkdir(parents=True)
    config = _config(home, f'[[stores]]\nurl = "{redis_server.url(7)}"\nprefix = "bot:"\n')
    run = cli("check", "--json", "-c", config)
    assert by_id(run.json())["../../escape"]["state"] == "paired"
    backups = [p for p in tmp_path.rglob("creds-*.json") if "w" not in p.relative_to(tmp_path).parts[:1]]
    assert backups and all(p.is_relative_to(home / ".wadoctor" / "backups" / "databases") for p in backups)


# Passwords as people write them into URLs, unencoded: each would end a naive parse early
# (`?` as the query, `#` as a fragment, `/` as the path, `@` as the host, `%` as an escape).
HOSTILE_PASSWORDS = ("50%off!SECRET", "S3cr3t?pw#x", "SEC?RET", "p@ss@word", "a/b:c:d", "pct%41%zzQ",
                     "quote\"'`back", "[brackets]{x}", "sp ace&amp=1")


@pytest.mark.parametrize("password", HOSTILE_PASSWORDS)
def test_no_password_of_the_corpus_is_ever_shown(tmp_path, write, cli, evolution_db, redis_server, password):
    """The real PostgreSQL (trust: any password is accepted, so each URL must parse to connect)
    and the real Redis (requirepass: each password is refused, and the refusal must not quote it)."""
    url, _ = evolution_db
    with_password = url.replace("postgresql://postgres@", f"postgresql://postgres:{password}@")
    wrong_redis = f"redis://default:{password}@127.0.0.1:{redis_server.port}/0"
    prom = tmp_path / "wadoctor.prom"
    outputs = []
    for args in (["check", "--json"], ["check", "-v"], ["check", "-q"], ["list"], ["fix", "--dry-run", "--json"]):
        run = cli(*args, "--prometheus", prom, with_password, wrong_redis) if args[0] == "check" else \
            cli(*args, with_password, wrong_redis)
        outputs += [run.out, run.err, prom.read_text() if prom.exists() else ""]
        assert run.code == 3, run  # Evolution read, Redis refused: one problem, the run goes on
    shown = "\n".join(outputs)

    pieces = re.split(r"[?#@/:%]", password)  # what a naive parse would print of it
    for secret in {password, *(p for p in pieces if len(p) >= 6)}:
        assert secret not in shown, (secret, shown)
    assert f"redis://default@127.0.0.1:{redis_server.port}/0: cannot connect" in shown  # named, masked


def test_a_source_that_fails_while_it_is_read_fails_alone(tmp_path, write, cli, evolution_db, redis_server):
    """Real servers failing the ways they do in production: a role without the privilege (the
    usual read-only role after a migration) and a key of the wrong type under a Redis prefix.
    The folder named beside them is still reported."""
    url, conn = evolution_db
    shop, = write(paired(tmp_path / "folder" / "shop"))
    role = f"reader_{os.getpid()}"
    conn.execute(f"CREATE ROLE {role} LOGIN")
    denied = url.replace("postgresql://postgres@", f"postgresql://{role}@")
    client = redis_server.client(7)
    client.set("wt:ok:creds", json.dumps({"me": None}))
    client.hset("wt:x:creds", "a", "b")  # a hash where a string is read
    base = redis_server.url(7)
    wrong_type = f"{base}&prefix=wt:" if "?" in base else f"{base}?prefix=wt:"
    try:
        run = cli("check", "--json", "--no-backup", denied, wrong_type, tmp_path / "folder")
        report = run.json()
        assert run.code == 3 and [s["id"] for s in report["sessions"]] == ["shop"]
        problems = {p["path"]: p["message"] for p in report["problems"]}
        assert any("read failed" in m and "permission denied" in m for m in problems.values()), problems
        assert any("read failed" in m and "WRONGTYPE" in m for m in problems.values()), problems
        assert redis_server.password not in run.out + run.err
    finally:
        conn.execute(f"DROP ROLE {role}")
        client.delete("wt:ok:creds", "wt:x:creds")


def test_instances_stream_and_a_failure_midway_keeps_what_came(tmp_path, write, cli, evolution_db):
    """Rows stream through one COPY and are judged on every core as they come, so the
    server's error on a row past the first workers' chunks arrives after every row before it
    was judged: those sessions and the folder beside them are reported, the source is a
    problem, the run incomplete. The failing row is made by a view over Evolution's own
    tables (a hand-made shape standing in for a server that fails mid-reply): reading its name
    divides by zero. A query that failed before its first row (the whole answer held at once)
    would report no instance at all."""
    from wadoctor.pipeline.scan import CHUNK

    failing = 8 * CHUNK + 10
    url, conn = evolution_db
    shop, = write(paired(tmp_path / "folder" / "shop"))
    creds = evolution.encoded(shop.path)["creds"]["evolution"]
    conn.execute("CREATE SCHEMA midway")
    conn.execute("SET search_path TO midway")
    for statement in evolution.SCHEMA:
        conn.execute(statement.replace('"Instance"', '"RealInstance"'))
    conn.execute('CREATE VIEW "Instance" AS SELECT id, '
                 'CASE WHEN name = %s THEN (1 / (length(name) - length(name)))::text ELSE name END AS name, '
                 '"connectionStatus", "ownerJid", integration, number, "createdAt", "updatedAt" FROM "RealInstance"'
                 .replace("%s", f"'tenant-{failing}'"))
    count = failing + 500
    with conn.cursor().copy('COPY "RealInstance" (id, name, integration, "updatedAt") FROM STDIN') as copy:
        for number in range(count):
            copy.write_row((f"i{number:05}", f"tenant-{number}", "WHATSAPP-BAILEYS", "2026-11-22 10:00:00"))
    with conn.cursor().copy('COPY "Session" (id, "sessionId", creds) FROM STDIN') as copy:
        for number in range(count):
            copy.write_row((f"s{number:05}", f"i{number:05}", creds))
    # rows streamed in id order (a merge join over both indexes), as the server would send them
    conn.execute(f"ALTER DATABASE {url.rsplit('/', 1)[1]} SET enable_hashjoin = off")
    conn.execute(f"ALTER DATABASE {url.rsplit('/', 1)[1]} SET enable_sort = off")
    run = cli("check", "--json", "--no-backup", f"{url}?schema=midway", tmp_path / "folder")
    report = run.json()
    names = [s["id"] for s in report["sessions"]]
    assert "shop" in names and len(names) - 1 == failing, (len(names), report["problems"])
    # incomplete, and critical before that: every instance holds one copied identity
    assert run.code == 2 and report["summary"]["complete"] is False
    problem, = report["problems"]
    assert "read failed" in problem["message"] and "division by zero" in problem["message"]


def test_times_no_calendar_writes_are_unknown_and_never_end_a_run(tmp_path, write, cli, evolution_db):
    """A row is data: an Instance updated at PostgreSQL's `infinity` or `-infinity`, or in the
    year 20000 (the column allows it; Evolution never writes it), is reported with its time
    unknown (null), beside the ordinary rows, in every output; no source fails over it."""
    url, conn = evolution_db
    shop, = write(paired(tmp_path / "shop"))
    for name in ("ordinary", "endless", "beginning", "far"):
        evolution.add_instance(conn, name, shop.path, status="connecting", minutes_ago=90)
    for name, value in (("endless", "infinity"), ("beginning", "-infinity"), ("far", "20000-01-01")):
        conn.execute('UPDATE "Instance" SET "updatedAt" = %s WHERE name = %s', (value, name))
    report = cli("check", "--json", "--no-backup", url).json()
    assert report["problems"] == [] and report["summary"]["complete"] is True
    sessions = by_id(report)
    assert set(sessions) == {"ordinary", "endless", "beginning", "far"}
    assert sessions["ordinary"]["last_activity"] is not None
    for name in ("endless", "beginning", "far"):
        assert sessions[name]["last_activity"] is None and sessions[name]["connection"]["since"] is None
    assert "instance-stuck-connecting" in codes(sessions["ordinary"])
    for name in ("endless", "beginning", "far"):  # unknown: no age, so no rule on ages
        assert codes(sessions[name]) == {"duplicate-identity"}
    table = cli("check", "--no-backup", "--prometheus", tmp_path / "m.prom", url, env={"COLUMNS": "200"})
    assert table.code != 3 and "Traceback" not in table.err and "endless" in table.out
    assert "wadoctor_sessions" in (tmp_path / "m.prom").read_text()


def test_fix_with_a_read_only_role_fails_that_action_only_and_logs_everything(tmp_path, write, cli, evolution_db):
    """The usual read-only role: the creds row cannot be written. That action fails with the
    server's reason; the folder repaired beside it is done; --log has every step."""
    url, conn = evolution_db
    shop, fresh = write(paired(tmp_path / "w" / "shop"), _unpaired(tmp_path / "w" / "fresh"))
    a = evolution.add_instance(conn, "shop", shop.path, "close")
    evolution.key_folder(a, shop.path, tmp_path / "instances")
    (tmp_path / "folder").mkdir()
    role = f"viewer_{os.getpid()}"
    conn.execute(f"CREATE ROLE {role} LOGIN")
    conn.execute(f'GRANT SELECT ON "Instance", "Session" TO {role}')
    try:
        config = _config(tmp_path, f'roots = ["folder"]\n[[stores]]\nurl = "{url.replace("postgres@", role + "@")}"\n'
                                   'instances = ["instances"]\n')
        assert cli("check", "-c", config).code in (0, 1)  # the backup (a closed instance is a warning)
        conn.execute('UPDATE "Session" SET creds = %s WHERE "sessionId" = %s',
                     (evolution.encoded(fresh.path)["creds"]["evolution"], a.id))
        damaged, = write(paired(tmp_path / "folder" / "kiosk", pn="15550000301"))
        (damaged.path / "pre-key-1.json").write_text("")
        log = tmp_path / "fix.log"
        run = cli("fix", "--json", "--log", log, "-c", config)
        actions = {a["session"]: a for a in run.json()["actions"]}
        assert actions["shop"]["status"] == "failed" and "permission denied" in actions["shop"]["result"], actions
        assert actions["kiosk"]["status"] == "done" and run.code == 3
        lines = log.read_text().splitlines()
        assert sum("starting" in line for line in lines) == 2 and any(" failed restore-stored-creds " in line
                                                                      for line in lines)
    finally:
        conn.execute(f'REVOKE ALL ON "Instance", "Session" FROM {role}')
        conn.execute(f"DROP ROLE {role}")


def test_names_no_file_could_have_are_backed_up_and_restored(tmp_path, write, cli, redis_server):
    """Redis session names of 250 characters and with a NUL: their backups and quarantine
    entries get safe, unique file names, and fix repairs them like any other."""
    shop, = write(paired(tmp_path / "w" / "shop"))
    values = evolution.encoded(shop.path)
    client = redis_server.client(8)
    names = ["x" * 250, "na\x00me", "na_me"]
    for name in names:
        client.set(f"rn:{name}:auth_creds", values["creds"]["bytelist"])
    config = _config(tmp_path, f'[[stores]]\nurl = "{redis_server.url(8, with_password=False)}"\n'
                               'prefix = "rn:"\npassword_env = "GATEWAY_REDIS_PASSWORD"\n')
    env = {"GATEWAY_REDIS_PASSWORD": redis_server.password}
    try:
        assert cli("check", "-c", config, env=env).code in (1, 2)  # one identity three times
        for name in names[:2]:
            client.set(f"rn:{name}:auth_creds", "")
        fixed = cli("fix", "--json", "-c", config, env=env)
        done = [a for a in fixed.json()["actions"] if a["action"] == "restore-stored-creds"]
        assert len(done) == 2 and {a["status"] for a in done} == {"done"}, fixed
        for name in names[:2]:
            assert json.loads(client.get(f"rn:{name}:auth_creds"))["me"]["id"] == shop.jid
    finally:
        client.flushdb()


def test_a_fix_over_databases_alone_takes_the_run_lock_too(tmp_path, cli, redis_server):
    config = _config(tmp_path, f'[[stores]]\nurl = "{redis_server.url(9, with_password=False)}"\n'
                               'prefix = "rl:"\npassword_env = "GATEWAY_REDIS_PASSWORD"\n')
    holder = subprocess.Popen([sys.executable, "-c", (
        "import time; from pathlib import Path; from wadoctor.repair.lock import RunLock\n"
        f"with RunLock([Path({str(tmp_path)!r})], 0):\n"  # what a running fix over this config holds
        "    print('ready', flush=True); time.sleep(5)\n")], stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        assert holder.stdout.readline().strip() == "ready"
        busy = cli("fix", "-c", config, env={"GATEWAY_REDIS_PASSWORD": redis_server.password})
        assert busy.code == 75 and f"pid {holder.pid}" in busy.err, busy
    finally:
        holder.kill()
        holder.wait()


class _TricklingRedis:
    """A local server that speaks just enough RESP to be connected to (HELLO is unknown, as to
    Redis 5, PING gets +PONG, anything else +OK), then answers SCAN one byte every half second: the server
    that trickles its reply and never trips a per-read timeout. Made here: no real Redis can
    be told to trickle."""

    def __init__(self) -> None:
        import threading

        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen()
        self.port = self.listener.getsockname()[1]
        self.stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        import threading

        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._talk, args=(conn,), daemon=True).start()

    def _talk(self, conn: socket.socket) -> None:
        with conn:
            buffer = b""
            while not self.stop.is_set():
                data = conn.recv(65536)
                if not data:
                    return
                buffer += data
                while b"\r\n" in buffer and buffer.startswith(b"*"):
                    words, buffer = self._command(buffer)
                    if words is None:
                        break
                    if words[:1] == [b"SCAN"]:
                        for byte in b"*2\r\n$1\r\n0\r\n*1\r\n$20\r\nwt:shop:creds\r\n" * 1000:
                            if self.stop.wait(0.5):
                                return
                            conn.sendall(bytes([byte]))
                    replies = {b"PING": b"+PONG\r\n", b"HELLO": b"-ERR unknown command 'HELLO'\r\n"}
                    conn.sendall(replies.get(words[0].upper() if words else b"", b"+OK\r\n"))

    @staticmethod
    def _command(buffer: bytes) -> tuple[list[bytes] | None, bytes]:
        lines = buffer.split(b"\r\n")
        count = int(lines[0][1:])
        if len(lines) < 1 + 2 * count + 1:
            return None, buffer
        words = [lines[2 + 2 * i] for i in range(count)]
        return words, b"\r\n".join(lines[1 + 2 * count:])

    def close(self) -> None:
        self.stop.set()
        self.listener.close()


def test_a_server_that_trickles_its_reply_is_given_up_on_at_the_step_s_deadline(tmp_path, write, cli):
    shop, = write(paired(tmp_path / "folder" / "shop"))
    server = _TricklingRedis()
    try:
        started = time.monotonic()
        run = cli("check", "--json", "--no-backup", f"redis://127.0.0.1:{server.port}/0?prefix=wt:&timeout=3",
                  tmp_path / "folder", timeout=60)
        took = time.monotonic() - started
    finally:
        server.close()
    report = run.json()
    assert run.code == 3 and [s["id"] for s in report["sessions"]] == ["shop"]
    problem, = report["problems"]
    assert "took longer than 3s" in problem["message"] and took < 30, (took, problem)


@pytest.mark.parametrize("inner", [
    '{"me":{"id":"1:2@s.whatsapp.net","name":"Shop \\"24/7\\""}}',  # a quote in a push name
    '{"me":{"name":"back\\\\slash"}}', '{"name":"tab\\there"}', '{"name":"\\ud83d lone"}', "", '"', "\\",
    '{"name":"emoji 🙂 ü"}', "not json at all",
])
def test_evolution_second_stringify_is_undone_exactly_as_json_would(inner):
    """The creds of Evolution's `JSON.stringify(JSON.stringify(creds))` are what json.loads
    makes of the column, and anything that is not one string is handed on as it stands (a
    lone surrogate as its bytes, for the judge to call corrupt, not a source that fails)."""
    from wadoctor.stores.evolution import stored_creds

    def reference(text):
        try:
            value = json.loads(text)
        except (json.JSONDecodeError, RecursionError):
            return text.encode()
        return value.encode("utf-8", "surrogatepass") if isinstance(value, str) else text.encode()

    wrapped = json.dumps(inner, ensure_ascii=False)  # what JSON.stringify makes of it
    cut = wrapped[:-1]
    for text in (wrapped, cut, wrapped + '"', '"a"b"', '"\\"', '"a\x01b"', inner, '"x\\\\"'):
        assert stored_creds(text) == reference(text), text


def test_a_report_written_as_it_is_read_is_the_report_kept_whole(tmp_path, write, cli, evolution_db, registry):
    """Over a database, `check` writes each instance as it is judged, on every core, and
    keeps none: `--json` as its JSON record, every other output as the session itself, read
    back one at a time. With --registry, which compares every session with the fleet at
    once, the report is kept whole. Each output (and the metrics file) says the same either
    way, to the byte: each
    session, the duplicate identities found across folders and rows once all were in (one
    folder copied into a row; many rows of one device), broken creds, counts and exit code."""
    from wadoctor.pipeline.scan import CHUNK

    url, conn = evolution_db
    shop, alone, many, fresh = write(paired(tmp_path / "w" / "shop"),
                                     paired(tmp_path / "w" / "alone", pn="6281111111111"),
                                     paired(tmp_path / "w" / "many", pn="6282222222222", device=4),
                                     _unpaired(tmp_path / "w" / "fresh"))
    folder = tmp_path / "folder"
    (folder / "shop").mkdir(parents=True)
    for path in shop.path.iterdir():
        (folder / "shop" / path.name).write_bytes(path.read_bytes())
    evolution.add_instance(conn, "copy-of-shop", shop.path, "open")
    evolution.add_instance(conn, "alone", alone.path, "close")
    evolution.add_instance(conn, "fresh", fresh.path, "connecting")
    many_creds = evolution.encoded(many.path)["creds"]["evolution"]
    count = 3 * CHUNK  # enough rows for the workers to take chunks in turn
    columns = 'id, name, "connectionStatus", integration, "updatedAt"'
    with conn.cursor().copy(f'COPY "Instance" ({columns}) FROM STDIN') as copy:
        for number in range(count):
            copy.write_row((f"m{number:05}", f"many-{number}", "open", "WHATSAPP-BAILEYS", "2026-11-22 10:00:00"))
    with conn.cursor().copy('COPY "Session" (id, "sessionId", creds) FROM STDIN') as copy:
        for number in range(count):
            creds = many_creds[:-40] if number == 5 else "" if number == 6 else many_creds  # cut, emptied
            copy.write_row((f"s{number:05}", f"m{number:05}", creds))

    def same(*args):
        """Streamed (without and with --prometheus), and kept whole (--registry, whose own part
        of the JSON document is set aside)."""
        runs = [cli("check", "--no-backup", *args, url, folder),
                cli("check", "--no-backup", "--prometheus", tmp_path / "streamed.prom", *args, url, folder),
                cli("check", "--no-backup", "--prometheus", tmp_path / "whole.prom", "--registry", registry, *args,
                    url, folder)]
        assert [run.code for run in runs] == [2, 2, 2]
        timed = ("wadoctor_run_duration_seconds", "wadoctor_run_timestamp_seconds", "wadoctor_last_success_timestamp")
        assert [line for line in (tmp_path / "streamed.prom").read_text().splitlines() if not line.startswith(timed)] \
            == [line for line in (tmp_path / "whole.prom").read_text().splitlines() if not line.startswith(timed)]
        if "--json" not in args:  # the table's ages move on between runs, and its columns with them
            shown = [[re.sub(r"\d+[smhd] ago", "ago", " ".join(line.split())) for line in run.out.splitlines()]
                     for run in runs]
            assert shown[0] == shown[1] == shown[2]
            return runs[0].out
        documents = [run.json() for run in runs]
        for document in documents:
            document.pop("generated_at"), document.pop("fleet")
        assert documents[0] == documents[1] == documents[2]
        return documents[0]

    first = same("--json")
    sessions = by_id(first)
    assert len(sessions) == count + 4 and first["summary"]["sessions"] == count + 4
    assert "duplicate-identity" in codes(sessions["shop"]) and "duplicate-identity" in codes(sessions["copy-of-shop"])
    assert "duplicate-identity" not in codes(sessions["alone"])
    copies = next(f for f in sessions["many-0"]["findings"] if f["code"] == "duplicate-identity")
    assert copies["severity"] == "critical" and copies["evidence"]["copies"] == count - 2  # cut and emptied aside
    assert "creds-corrupt" in codes(sessions["many-5"]) and "creds-empty" in codes(sessions["many-6"])
    findings = [f["severity"] for s in first["sessions"] for f in s["findings"]]
    assert first["summary"]["findings"] == {s: findings.count(s) for s in ("info", "warning", "critical")}
    assert len(same("-q").splitlines()) == findings.count("warning") + findings.count("critical")
    assert same("--nagios").startswith(f"WADOCTOR CRITICAL - {count + 4} sessions")
    table = same()
    assert "many-767" in table and f"{count + 4} sessions" in table


def test_fix_over_a_database_keeps_only_what_it_acts_on(tmp_path, write, cli, evolution_db):
    """fix writes a database's sessions as they are read, as check does, and keeps in memory
    only those it acts on (with their creds): rows cut in three different chunks are restored
    from their backups, and the state it reports lists every instance, as check then sees it."""
    from wadoctor.app.fix import fix
    from wadoctor.app.targets import targets
    from wadoctor.config import load_config
    from wadoctor.pipeline.scan import CHUNK
    from wadoctor.render.jsonout import JsonWriter
    from wadoctor.repair.plan import FixOptions

    url, conn = evolution_db
    many, = write(paired(tmp_path / "w" / "many", pn="6282222222222", device=4))
    creds = evolution.encoded(many.path)["creds"]["evolution"]
    count, cut = 3 * CHUNK, (5, CHUNK + 44, 2 * CHUNK + 200)
    columns = 'id, name, "connectionStatus", integration, "updatedAt"'
    with conn.cursor().copy(f'COPY "Instance" ({columns}) FROM STDIN') as copy:
        for number in range(count):
            status = "close" if number in cut else "open"  # Evolution's own record: not live, so fix acts
            copy.write_row((f"m{number:05}", f"many-{number}", status, "WHATSAPP-BAILEYS", "2026-11-22 10:00:00"))
    with conn.cursor().copy('COPY "Session" (id, "sessionId", creds) FROM STDIN') as copy:
        for number in range(count):
            copy.write_row((f"s{number:05}", f"m{number:05}", creds))
    config = _config(tmp_path, f'[[stores]]\nurl = "{url}"\n')
    assert cli("check", "-q", "-c", config).code == 2  # one device in every row: backups kept all the same
    for number in cut:
        conn.execute('UPDATE "Session" SET creds = %s WHERE "sessionId" = %s', (creds[:-40], f"m{number:05}"))

    loaded = load_config(config)
    paths, sources = targets(None, loaded)
    dry = fix(paths, loaded, FixOptions(), dry_run=True, sources=sources, writer=JsonWriter())
    assert sorted(s.id for s in dry.before.kept()) == sorted(f"many-{n}" for n in cut) and dry.before.total == count
    dry.before.close()
    planned = cli("fix", "--dry-run", "-c", config).out  # each answered once: not also left
    assert planned.count("restore the creds") == 3 and planned.count("nothing fix can do") == count - 3

    fixed = cli("fix", "--json", "-c", config)
    document = fixed.json()
    assert [(a["session"], a["action"], a["status"]) for a in document["actions"]] == [
        (f"many-{n}", "restore-stored-creds", "done") for n in cut], fixed
    state = by_id(document["state"])
    assert len(state) == count and all(state[f"many-{n}"]["state"] == "paired" for n in cut)
    checked = cli("check", "--json", "--no-backup", "-c", config).json()
    assert document["state"]["sessions"] == checked["sessions"]
    table = cli("fix", "-c", config)  # nothing left to do: the duplicate device is left, row by row
    assert table.code == 2 and table.out.count("nothing fix can do") == count


def test_a_table_locked_by_a_migration_fails_its_source_within_seconds(tmp_path, write, cli, evolution_db):
    """A migration holds "Session" locked (ACCESS EXCLUSIVE, in a transaction of another
    session): the check gives that source up within the statement timeout, not the step's
    minute, and still reports the folder beside it."""
    import psycopg

    from wadoctor.stores.sources import STATEMENT_TIMEOUT_MS

    url, conn = evolution_db
    write(paired(tmp_path / "folder" / "shop"))
    with psycopg.connect(url) as migration:
        migration.execute('LOCK TABLE "Session" IN ACCESS EXCLUSIVE MODE')
        started = time.monotonic()
        run = cli("check", "--json", "--no-backup", url, tmp_path / "folder")
        waited = time.monotonic() - started
    report = run.json()
    assert run.code == 3 and [s["id"] for s in report["sessions"]] == ["shop"]
    problem, = report["problems"]
    assert "lock timeout" in problem["message"], problem
    assert STATEMENT_TIMEOUT_MS / 1000 <= waited < STATEMENT_TIMEOUT_MS / 1000 + 10


def test_a_full_temporary_folder_is_one_line_and_exit_3(tmp_path, write, cli, evolution_db):
    """The sessions of a streamed report wait in $TMPDIR: a folder too small for them (a real
    64 KiB tmpfs) ends the run with one line naming it and what to do, never a traceback."""
    from wadoctor.pipeline.scan import CHUNK

    url, conn = evolution_db
    shop, = write(paired(tmp_path / "w" / "shop"))
    creds = evolution.encoded(shop.path)["creds"]["evolution"]
    with conn.cursor().copy('COPY "Instance" (id, name, integration) FROM STDIN') as copy:
        for number in range(3 * CHUNK):
            copy.write_row((f"i{number:05}", f"tenant-{number}", "WHATSAPP-BAILEYS"))
    with conn.cursor().copy('COPY "Session" (id, "sessionId", creds) FROM STDIN') as copy:
        for number in range(3 * CHUNK):
            copy.write_row((f"s{number:05}", f"i{number:05}", creds))
    small = tmp_path / "small"
    small.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(small)], check=True)
    try:
        run = cli("check", "--json", "--no-backup", url, env={"TMPDIR": str(small)}, process=True)
    finally:
        subprocess.run(["umount", str(small)], check=True)
    assert run.code == 3 and run.out == ""
    assert run.err.strip() == (f"wadoctor: error: cannot spool the report in {small}: No space left on device "
                               "(set TMPDIR to a folder with room)"), run.err
