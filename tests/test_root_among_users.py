"""Root runs wadoctor over folders a gateway user owns: nothing that user plants may turn it.

A real unprivileged user (useradd) owns the sessions folders; it plants files, links and
manifests with `runuser`, as a hostile tenant would, and root then runs wadoctor as the README
says. Every test checks that what root alone may touch is untouched.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tomllib
from pathlib import Path

import pytest

from tests.conftest import by_id, codes
from tests.fixtures import baileys
from tests.repair_helpers import copy, fixable_tree, inventory


@pytest.fixture(scope="module")
def tenant():
    """A real unprivileged user, removed afterwards."""
    if os.geteuid() != 0 or shutil.which("useradd") is None:
        if os.environ.get("CI"):
            pytest.fail("CI must run the root-among-users tests as root with useradd")
        pytest.skip("needs root and useradd")
    name = f"wdt{os.getpid() % 100000}"
    subprocess.run(["useradd", "-M", "-s", "/usr/sbin/nologin", name], check=True)
    try:
        import pwd

        yield name, pwd.getpwnam(name).pw_uid
    finally:
        subprocess.run(["userdel", name], capture_output=True)


@pytest.fixture
def base(tmp_path_factory):
    """A folder the tenant can reach (pytest's own are root's, 0700), removed afterwards."""
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="wadoctor-tenant-", dir="/tmp"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def as_tenant(tenant, *command: str) -> None:
    subprocess.run(["runuser", "-u", tenant[0], "--", *command], check=True)


def give(tenant, path: Path) -> None:
    subprocess.run(["chown", "-R", f"{tenant[1]}:{tenant[1]}", str(path)], check=True)


def root_only(tmp_path: Path) -> Path:
    """A folder only root may enter, holding a secret, beside the tenant's tree."""
    folder = tmp_path / "root-only"
    folder.mkdir(mode=0o700)
    (folder / "secret").write_text("root's")
    (folder / "secret").chmod(0o600)
    return folder


def snapshot(folder: Path) -> list[tuple[str, int, int, bytes]]:
    return sorted((str(p), p.lstat().st_uid, p.lstat().st_mode, p.read_bytes() if p.is_file() else b"")
                  for p in [folder, *folder.rglob("*")])


def test_a_quarantine_the_tenant_made_is_never_restored_from(base, cli, tenant):
    secret = root_only(base)
    app = base / "app"
    sessions = app / "sessions"
    copy("shop-main", sessions / "shop")
    give(tenant, app)
    (app / "payload").write_text("tenant's")
    give(tenant, app / "payload")
    entry = sessions / ".wadoctor" / "quarantine" / "29991231T000000Z-shop-aaaaaa"
    script = (f"mkdir -p {entry}/files && cat > {entry}/manifest.toml <<'EOF'\n"
              'id = "29991231T000000Z-shop-aaaaaa"\ncreated = 2999-12-31T00:00:00Z\nsession = "shop"\n'
              f'root = "{sessions}"\nreason = "x"\nstate = "complete"\n'
              f'[[items]]\noriginal = "{secret}/secret"\nstored = "../../../../payload"\nkind = "file"\n'
              'size = 1\nreason = "x"\n'
              f'[[items]]\noriginal = "{app}/stolen"\nstored = "../../../../../root-only/secret"\nkind = "file"\n'
              'size = 1\nreason = "x"\nEOF\n')
    as_tenant(tenant, "sh", "-c", script)
    before = snapshot(secret)
    run = cli("restore", "--last", "--root", sessions)
    assert run.code == 3 and "refused" in run.err and str(sessions / ".wadoctor") in run.err
    assert snapshot(secret) == before and (app / "payload").read_text() == "tenant's"
    listed = cli("quarantine", "list", "--json", sessions)
    assert listed.code == 3 and listed.json()["entries"] == [] and listed.json()["problems"]


def test_a_manifest_pointing_outside_its_entry_or_root_is_refused(base, cli):
    """Even a manifest root wrote (edited by hand, or from an older, buggier tool) is checked."""
    secret = root_only(base)
    sessions = fixable_tree(base)
    assert cli("fix", sessions).code == 0
    manifest = next(sessions.glob(".wadoctor/quarantine/*/manifest.toml"))
    text = manifest.read_text()
    item = tomllib.loads(text)["items"][0]
    for bad in (text.replace(f'stored = "{item["stored"]}"', 'stored = "../../../../root-only/secret"'),
                text.replace(f'original = "{item["original"]}"', f'original = "{secret}/secret"')):
        manifest.write_text(bad)
        run = cli("restore", "--last", "--root", sessions)
        assert run.code == 3 and "refused" in run.err, run
        assert (secret / "secret").read_text() == "root's"
    manifest.write_text(text)
    assert cli("restore", "--last", "--root", sessions).code == 0


def test_restore_never_follows_a_session_folder_swapped_for_a_link(base, cli, tenant):
    secret = root_only(base)
    sessions = fixable_tree(base)
    give(tenant, sessions)
    assert cli("fix", sessions).code == 0  # marketing's damaged key files go to the quarantine
    as_tenant(tenant, "sh", "-c", f"mv {sessions}/marketing {sessions}/was-marketing && "
                                  f"ln -s {secret} {sessions}/marketing")
    before = snapshot(secret)
    run = cli("restore", "--last", "--root", sessions)
    assert run.code != 0 and "symbolic link" in run.err
    assert snapshot(secret) == before
    listed = cli("quarantine", "list", "--json", sessions).json()["entries"]
    assert listed, "what could not go back stays in the quarantine"


def test_a_backups_folder_linked_to_another_tenant_is_refused(base, cli, real_baileys, tenant):
    a, b = base / "a" / "sessions", base / "b" / "sessions"
    baileys.write_sessions([baileys.paired(a / "shop", pn="15550000201"), baileys.paired(b / "shop", pn="15550000202")])
    assert cli("check", b).code == 0  # root's cron keeps B's backup
    b_backups = b / ".wadoctor" / "backups" / "shop"
    b_before = snapshot(b_backups)
    give(tenant, a)
    as_tenant(tenant, "sh", "-c", f"mkdir -p {a}/.wadoctor/backups && ln -s {b_backups} {a}/.wadoctor/backups/shop")
    run = cli("check", "--json", a)
    assert run.code == 3 and any("refused" in p["message"] for p in run.json()["problems"])
    assert snapshot(b_backups) == b_before
    baileys.empty(b / "shop" / "creds.json")
    assert cli("fix", b).code == 0
    me = by_id(cli("check", "--json", b).json())["shop"]["identity"]["jid"]
    assert me.startswith("15550000202:"), "B's own identity comes back, never A's"


@pytest.mark.parametrize("plant", ["tenant's", "world-writable", "in the tenant's folder"])
def test_a_config_another_user_could_write_is_refused(base, cli, tenant, plant):
    app = base / "app"
    copy("shop-main", app / "sessions" / "shop")
    config = app / "wadoctor.toml"
    config.write_text('roots = ["sessions"]\n[severity]\ncreds-empty = "ignore"\n')
    if plant == "tenant's":
        give(tenant, app)
    elif plant == "world-writable":
        config.chmod(0o666)
    else:
        give(tenant, app)
        subprocess.run(["chown", "0:0", str(config)], check=True)  # root's file, in a folder the tenant can swap it in
    for run in (cli("check", cwd=app), cli("check", "--config", config),
                cli("check", env={"WADOCTOR_CONFIG": str(config)})):
        assert run.code == 78 and str(config) in run.err and "refused" in run.err, run


def test_a_fix_with_nothing_to_do_leaves_nothing(base, cli):
    sessions = base / "sessions"
    copy("shop-main", sessions / "shop")
    elsewhere = base / "cron"
    elsewhere.mkdir()
    run = cli("fix", sessions, cwd=elsewhere)  # as cron starts it, from anywhere
    assert (run.code, run.out, run.err) == (0, "", "")
    assert list(elsewhere.iterdir()) == []
    left = {p.relative_to(sessions).as_posix() for p in sessions.rglob("*") if ".wadoctor" in p.parts}
    backup = {p for p in left if p.startswith(".wadoctor/backups/shop")}
    assert left <= {".wadoctor", ".wadoctor/backups"} | backup, left  # only the creds backup


def test_purge_never_follows_a_linked_quarantine(base, cli, tenant):
    other = fixable_tree(base / "other")
    assert cli("fix", other).code == 0  # root's own entries, in another root
    kept = inventory(other / ".wadoctor")
    mine = base / "mine" / "sessions"
    copy("shop-main", mine / "shop")
    give(tenant, mine)
    as_tenant(tenant, "sh", "-c",
              f"mkdir {mine}/.wadoctor && ln -s {other}/.wadoctor/quarantine {mine}/.wadoctor/quarantine")
    run = cli("quarantine", "purge", "--older-than", "0s", "--yes", mine)
    assert run.code == 3 and "refused" in run.err
    assert inventory(other / ".wadoctor") == kept
    assert codes(by_id(cli("check", "--json", other).json())["marketing"]) == set()


def test_metrics_are_written_for_any_name_and_only_to_a_regular_file(base, cli, tenant):
    from prometheus_client.parser import text_string_to_metric_families

    sessions = base / "sessions"
    for name in (b"caf\xe9-\xff", b"cr\rlf\nq\"b\\s", b"esc\x1b[31m"):
        copy("shop-main", Path(os.fsdecode(bytes(sessions) + b"/" + name)))
    metrics = base / "metrics"
    metrics.mkdir()
    prom = metrics / "wadoctor.prom"
    run = cli("check", "--json", "--prometheus", prom, sessions)
    assert run.code in (1, 2), run  # copies of one identity
    text = prom.read_bytes().decode("utf-8")  # valid UTF-8, whatever the names held
    labels = {s.labels.get("session") for f in text_string_to_metric_families(text) for s in f.samples}
    assert {"caf\\xe9-\\xff", 'cr\\x0dlf\nq"b\\s', "esc\\x1b[31m"} <= labels
    os.unlink(prom)
    os.mkfifo(prom)  # a FIFO planted where the metrics go: never read, never replaced, never hangs
    run = cli("fix", "--json", "--prometheus", prom, sessions, timeout=30)
    assert run.code == 3 and any("not a regular file" in p["message"] for p in run.json()["state"]["problems"])
    assert stat.S_ISFIFO(os.lstat(prom).st_mode)
    elsewhere = root_only(base)
    app = base / "app"  # metrics kept in a folder of the tenant's, which it swaps for a link
    (app / "metrics").mkdir(parents=True)
    give(tenant, app)
    as_tenant(tenant, "sh", "-c", f"mv {app}/metrics {app}/m2 && ln -s {elsewhere} {app}/metrics")
    before = snapshot(elsewhere)
    run = cli("check", "--json", "--prometheus", app / "metrics" / "wadoctor.prom", sessions)
    assert run.code == 3 and any("refused" in p["message"] for p in run.json()["problems"])
    assert snapshot(elsewhere) == before


def test_a_root_that_is_the_admin_s_link_is_followed_and_a_tenant_s_is_not(base, cli, tenant):
    real = base / "data" / "sessions"
    copy("shop-main", real / "shop")
    admin = base / "sessions"
    admin.symlink_to(real)  # /srv/sessions -> /data/sessions, as an admin lays out a server
    assert cli("check", admin).code == 0 and (real / ".wadoctor" / "backups" / "shop").is_dir()
    shutil.rmtree(real / ".wadoctor")
    app = base / "app"
    app.mkdir()
    give(tenant, app)
    as_tenant(tenant, "ln", "-s", str(real), str(app / "sessions"))  # the same link, made by a tenant
    run = cli("check", "--json", app / "sessions")
    assert run.code == 3 and any("refused" in p["message"] for p in run.json()["problems"])
    assert not (real / ".wadoctor").exists()


def test_watch_never_makes_its_history_where_a_tenant_could_swap_it(base, cli, tenant):
    """--history pointed into a folder the gateway user owns, through a link they planted:
    refused (78) before root creates anything there."""
    mine = base / "mine" / "sessions"
    copy("shop-main", mine / "shop")
    give(tenant, mine)
    target = base / "elsewhere"
    target.mkdir()
    as_tenant(tenant, "sh", "-c", f"ln -s {target} {mine}/.wadoctor")
    for history in (mine / ".wadoctor" / "watch.sqlite", mine / "watch.sqlite"):
        run = cli("watch", "--once", "--history", history, mine)
        assert run.code == 78 and "refused" in run.err, run
    assert list(target.iterdir()) == [] and not (mine / "watch.sqlite").exists()
