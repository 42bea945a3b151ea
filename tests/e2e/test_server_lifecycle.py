"""The server's life: first start and the admin key, configuration layering, persistence across
restarts and `kill -9`, passphrase sealing of the root key, graceful shutdown and /health."""
import base64
import configparser
import json
import os
import re
import shutil
import stat
import subprocess
import tempfile
import urllib.request
import uuid
from pathlib import Path

import pytest

from conftest import ACCESS_KEY, REGION, SECRET_KEY, free_port
from e2e_support import Launch, data_dir_bytes, send

EXPORT_RE = re.compile(r"^export (AWS_[A-Z_]+)=(\S+)$", re.M)


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def exports(text):
    """`export NAME=VALUE` lines of the start-up output, as (name, value) pairs in order."""
    return EXPORT_RE.findall(text)


def aws_env(s, **extra):
    """A clean environment for the aws CLI pointing at `s`, with no credentials unless given."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ENDPOINT_URL=s.endpoint, AWS_DEFAULT_REGION=REGION, AWS_MAX_ATTEMPTS="1", AWS_PAGER="",
               AWS_CONFIG_FILE=os.devnull)
    env.update(extra)
    return env


def run_aws(env, *args):
    return subprocess.run(["aws", *args], env=env, capture_output=True, text=True, timeout=60)


@pytest.fixture
def launcher():
    """Servers started with a command line of the test's choosing (see `e2e_support.Launch`)."""
    made = []

    def make(argv, port, **kw):
        s = Launch(argv, port, **kw)
        made.append(s)
        return s

    yield make
    for s in made:
        s.cleanup()


@pytest.fixture
def scratch():
    d = Path(tempfile.mkdtemp(prefix="m2sec-e2e-scratch-"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


# --- first start and the admin key -------------------------------------------------------------------


def test_first_start_prints_the_admin_key_once_and_saves_it(fresh_server):
    s = fresh_server(admin=False).start()
    out = s.stdout.read_text()
    found = exports(out)
    names = [n for n, _ in found]
    for name in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        assert names.count(name) == 1, f"{name} printed {names.count(name)} times:\n{out}"
    values = dict(found)
    assert values["AWS_ENDPOINT_URL"] == s.endpoint
    key_id, secret = values["AWS_ACCESS_KEY_ID"], values["AWS_SECRET_ACCESS_KEY"]
    assert re.fullmatch(r"AKIA[A-Z2-7]{16}", key_id), key_id
    assert len(secret) >= 30

    # The secret is shown on stdout once, never logged.
    assert secret not in s.stderr.read_text()

    creds = s.data_dir / "credentials"
    assert creds.is_file()
    assert mode(creds) == 0o600, oct(mode(creds))
    parsed = configparser.ConfigParser()
    parsed.read(creds)
    assert parsed["default"]["aws_access_key_id"] == key_id
    assert parsed["default"]["aws_secret_access_key"] == secret

    # The aws CLI reads the file as its shared credentials file.
    env = aws_env(s, AWS_SHARED_CREDENTIALS_FILE=str(creds))
    proc = run_aws(env, "kms", "create-key", "--description", "from the credentials file")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["KeyMetadata"]["Arn"].startswith(f"arn:aws:kms:{REGION}:000000000000:key/")

    # The exported pair works as-is for the SDK.
    kms = s.client(access_key=key_id, secret_key=secret)
    assert len(kms.list_keys()["Keys"]) == 1

    # A second start of the same data dir prints no secret and keeps the same key working.
    s.restart()
    again = s.stdout.read_text() + s.stderr.read_text()
    assert secret not in again
    assert "AWS_SECRET_ACCESS_KEY" not in s.stdout.read_text()
    assert s.client(access_key=key_id, secret_key=secret).list_keys()["Keys"]
    assert parsed["default"]["aws_secret_access_key"] in creds.read_text(), "credentials file kept"


def test_dev_root_key_file_is_private_and_labelled(fresh_server):
    s = fresh_server().start()
    dev = s.data_dir / "root-key.dev"
    assert dev.is_file()
    assert not (s.data_dir / "root-key.sealed").exists()
    assert mode(dev) == 0o600, oct(mode(dev))
    text = dev.read_text()
    assert "DEVELOPMENT" in text and "NOT FOR PRODUCTION" in text
    assert "DEVELOPMENT root key" in s.stderr.read_text(), "the log warns about the development key"
    assert mode(s.data_dir) & 0o077 == 0, "the data dir is private"


def test_admin_pair_from_environment(fresh_server):
    s = fresh_server().start()
    kms = s.client()
    key = kms.create_key()["KeyMetadata"]
    assert key["Arn"].startswith(f"arn:aws:kms:{REGION}:000000000000:key/")
    assert s.aws("kms", "describe-key", "--key-id", key["KeyId"])["KeyMetadata"]["KeyId"] == key["KeyId"]
    # A chosen pair is neither printed nor written to a credentials file.
    assert not (s.data_dir / "credentials").exists()
    assert SECRET_KEY not in s.logs()
    # It keeps working across restarts.
    s.restart()
    assert s.client().describe_key(KeyId=key["KeyId"])["KeyMetadata"]["Enabled"]


@pytest.mark.parametrize("given", ["M2SEC_ADMIN_ACCESS_KEY_ID", "M2SEC_ADMIN_SECRET_ACCESS_KEY"])
def test_only_one_admin_variable_is_refused(fresh_server, given):
    value = ACCESS_KEY if given.endswith("KEY_ID") else SECRET_KEY
    s = fresh_server(admin=False, env={given: value})
    assert s.start(expect_exit=True) != 0
    err = s.stderr.read_text()
    assert "M2SEC_ADMIN_ACCESS_KEY_ID" in err and "M2SEC_ADMIN_SECRET_ACCESS_KEY" in err, err
    assert "both" in err
    assert "export AWS_SECRET_ACCESS_KEY" not in s.stdout.read_text()
    # Refused before anything is written: the data dir can still be created either way.
    assert list(s.data_dir.iterdir()) == []


# --- configuration -----------------------------------------------------------------------------------


def test_flags_choose_listen_and_data_dir_over_environment(fresh_server, scratch):
    other_dir = scratch / "from-env"
    s = fresh_server(env={"M2SEC_LISTEN": f"127.0.0.1:{free_port()}", "M2SEC_DATA_DIR": str(other_dir)}).start()
    # start() succeeded on the --listen port, so the flag won; the data went to --data-dir.
    assert (s.data_dir / "m2sec.db").is_file() and (s.data_dir / "root-key.dev").is_file()
    assert not other_dir.exists()
    assert f"127.0.0.1:{s.port}" in s.stderr.read_text()


def test_listen_and_data_dir_from_environment(launcher, scratch):
    port = free_port()
    data = scratch / "data"
    s = launcher([], port, data_dir=data, env={"M2SEC_LISTEN": f"127.0.0.1:{port}", "M2SEC_DATA_DIR": str(data)})
    s.start()
    assert s.client().list_keys()["Keys"] == []
    assert (data / "m2sec.db").is_file()


def test_toml_config_file(launcher, scratch):
    port = free_port()
    data = scratch / "data"
    cfg = scratch / "m2sec.toml"
    cfg.write_text(f'listen = "127.0.0.1:{port}"\naccount_id = "123456789012"\ndata_dir = "{data}"\n')
    s = launcher(["--config", str(cfg)], port, data_dir=data)
    s.start()
    meta = s.aws("kms", "create-key")["KeyMetadata"]
    assert meta["Arn"] == f"arn:aws:kms:{REGION}:123456789012:key/{meta['KeyId']}"
    assert meta["AWSAccountId"] == "123456789012"
    s.aws("kms", "create-alias", "--alias-name", "alias/from-toml", "--target-key-id", meta["KeyId"])
    aliases = s.client().list_aliases()["Aliases"]
    assert [a["AliasArn"] for a in aliases if a["AliasName"] == "alias/from-toml"] == [
        f"arn:aws:kms:{REGION}:123456789012:alias/from-toml"
    ]


def test_config_layers_file_then_environment_then_flags(launcher, scratch):
    p_file, p_env, p_flag = free_port(), free_port(), free_port()
    data = scratch / "data"
    cfg = scratch / "m2sec.toml"
    cfg.write_text(f'listen = "127.0.0.1:{p_file}"\ndata_dir = "{data}"\naccount_id = "111111111111"\n')

    # M2SEC_CONFIG names the file; the environment beats it.
    env = {"M2SEC_CONFIG": str(cfg), "M2SEC_LISTEN": f"127.0.0.1:{p_env}", "M2SEC_ACCOUNT_ID": "222222222222"}
    s = launcher([], p_env, data_dir=data, env=env)
    s.start()
    assert ":222222222222:" in s.client().create_key()["KeyMetadata"]["Arn"]
    s.stop()

    # A flag beats both. (A new data dir: the account is fixed when a data dir's admin key is created.)
    data2 = scratch / "data2"
    argv = ["--listen", f"127.0.0.1:{p_flag}", "--account-id", "333333333333", "--data-dir", str(data2)]
    s2 = launcher(argv, p_flag, data_dir=data2, env=env)
    s2.start()
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{p_env}/health", timeout=1)
    assert ":333333333333:" in s2.client().create_key()["KeyMetadata"]["Arn"]
    assert (data2 / "m2sec.db").is_file()


def test_account_id_from_environment_keeps_leading_zeros(fresh_server):
    s = fresh_server(env={"M2SEC_ACCOUNT_ID": "012345678901"}).start()
    meta = s.client().create_key()["KeyMetadata"]
    assert meta["Arn"] == f"arn:aws:kms:{REGION}:012345678901:key/{meta['KeyId']}"


def test_unknown_key_in_config_file_is_refused(launcher, scratch):
    port = free_port()
    cfg = scratch / "m2sec.toml"
    cfg.write_text(f'listen = "127.0.0.1:{port}"\nscheduler_intervall_secs = 5\n')
    s = launcher(["--config", str(cfg), "--data-dir", str(scratch / "data")], port, data_dir=scratch / "data")
    assert s.start(expect_exit=True) != 0
    assert "scheduler_intervall_secs" in s.stderr.read_text()


@pytest.mark.parametrize("how", ["flag", "file", "env"])
def test_bad_account_id_is_refused(launcher, scratch, how):
    port = free_port()
    data = scratch / "data"
    argv, env = ["--data-dir", str(data), "--listen", f"127.0.0.1:{port}"], {}
    if how == "flag":
        argv += ["--account-id", "12345"]
    elif how == "file":
        cfg = scratch / "m2sec.toml"
        cfg.write_text('account_id = "12345678901a"\n')
        argv += ["--config", str(cfg)]
    else:
        env["M2SEC_ACCOUNT_ID"] = "1234567890123"
    s = launcher(argv, port, data_dir=data, env=env)
    assert s.start(expect_exit=True) != 0
    assert "account_id" in s.stderr.read_text()


def test_unrelated_m2sec_variables_do_not_stop_the_server(fresh_server):
    s = fresh_server(env={"M2SEC_BIN": "/nonexistent/m2sec", "M2SEC_SOMETHING_ELSE": "1"}).start()
    assert s.client().list_keys()["Keys"] == []
    assert "M2SEC_SOMETHING_ELSE" in s.stderr.read_text(), "an unknown M2SEC_ variable is warned about"


# --- persistence ---------------------------------------------------------------------------------------


def test_restart_keeps_keys_aliases_and_ciphertexts(fresh_server):
    s = fresh_server().start()
    kms = s.client()
    keys, blobs = [], {}
    for i in range(3):
        meta = kms.create_key(Description=f"persist-{i}", Tags=[{"TagKey": "n", "TagValue": str(i)}])["KeyMetadata"]
        keys.append(meta)
        kms.create_alias(AliasName=f"alias/persist-{i}", TargetKeyId=meta["KeyId"])
        blobs[i] = kms.encrypt(KeyId=f"alias/persist-{i}", Plaintext=f"secret-{i}".encode(),
                               EncryptionContext={"i": str(i)})["CiphertextBlob"]
    kms.enable_key_rotation(KeyId=keys[0]["KeyId"])
    kms.disable_key(KeyId=keys[1]["KeyId"])
    other_region = s.client(region="us-east-1").create_key(Description="elsewhere")["KeyMetadata"]

    assert s.stop() == 0
    s.start()
    kms = s.client()
    listed = {k["KeyId"] for k in kms.list_keys()["Keys"]}
    assert listed == {k["KeyId"] for k in keys}
    for i, meta in enumerate(keys):
        got = kms.describe_key(KeyId=f"alias/persist-{i}")["KeyMetadata"]
        assert got["KeyId"] == meta["KeyId"] and got["Description"] == f"persist-{i}"
        assert got["CreationDate"] == meta["CreationDate"]
        assert kms.list_resource_tags(KeyId=meta["KeyId"])["Tags"] == [{"TagKey": "n", "TagValue": str(i)}]
    assert kms.get_key_rotation_status(KeyId=keys[0]["KeyId"])["KeyRotationEnabled"] is True
    assert kms.describe_key(KeyId=keys[1]["KeyId"])["KeyMetadata"]["KeyState"] == "Disabled"
    kms.enable_key(KeyId=keys[1]["KeyId"])
    for i, blob in blobs.items():
        out = kms.decrypt(CiphertextBlob=blob, EncryptionContext={"i": str(i)})
        assert out["Plaintext"] == f"secret-{i}".encode() and out["KeyId"] == keys[i]["Arn"]
    assert s.client(region="us-east-1").describe_key(KeyId=other_region["KeyId"])["KeyMetadata"]["Enabled"]
    # And through the aws CLI.
    blob_file = s.data_dir.parent / f"{s.data_dir.name}.blob"
    blob_file.write_bytes(blobs[2])
    try:
        pt = s.aws("kms", "decrypt", "--ciphertext-blob", f"fileb://{blob_file}", "--encryption-context", "i=2",
                   "--output", "text", "--query", "Plaintext")
    finally:
        blob_file.unlink()
    assert base64.b64decode(pt) == b"secret-2"


def test_acknowledged_writes_survive_kill_9(fresh_server):
    s = fresh_server().start()
    expected = []
    for round_ in range(3):
        kms = s.client()
        key_id = kms.create_key(Description=f"durable-{round_}")["KeyMetadata"]["KeyId"]
        s.kill()
        s.restart()
        kms = s.client()
        assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["Description"] == f"durable-{round_}"

        kms.create_alias(AliasName=f"alias/durable-{round_}", TargetKeyId=key_id)
        s.kill()
        s.restart()
        kms = s.client()
        assert kms.describe_key(KeyId=f"alias/durable-{round_}")["KeyMetadata"]["KeyId"] == key_id

        kms.enable_key_rotation(KeyId=key_id)
        s.kill()
        s.restart()
        kms = s.client()
        assert kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is True
        expected.append(key_id)
    assert {k["KeyId"] for k in s.client().list_keys()["Keys"]} == set(expected)
    assert sorted(a["AliasName"] for a in s.client().list_aliases()["Aliases"] if "durable" in a["AliasName"]) == [
        f"alias/durable-{i}" for i in range(3)
    ]


def test_data_dir_holds_no_plaintext_or_raw_key_material(fresh_server):
    s = fresh_server().start()
    kms = s.client()
    marker = uuid.uuid4().hex
    plaintexts = [f"plaintext-{marker}-{i}".encode() for i in range(3)]
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    for p in plaintexts:
        kms.encrypt(KeyId=key_id, Plaintext=p)
    data_keys = [kms.generate_data_key(KeyId=key_id, NumberOfBytes=32)["Plaintext"] for _ in range(3)]
    random_bytes = kms.generate_random(NumberOfBytes=32)["Plaintext"]
    kms.enable_key_rotation(KeyId=key_id)
    kms.rotate_key_on_demand(KeyId=key_id)

    root_hex = [l for l in (s.data_dir / "root-key.dev").read_text().splitlines() if l and not l.startswith("#")][0]
    root_raw = bytes.fromhex(root_hex)

    def check():
        files = data_dir_bytes(s.data_dir)
        assert any(p.name == "m2sec.db" for p in files)
        for path, blob in files.items():
            for p in plaintexts:
                for form in (p, base64.b64encode(p), p.hex().encode(), marker.encode()):
                    assert form not in blob, f"{form!r} found in {path.name}"
            for secret in data_keys + [random_bytes]:
                assert secret not in blob and base64.b64encode(secret) not in blob, f"data key in {path.name}"
            assert SECRET_KEY.encode() not in blob, f"the admin secret is stored in clear in {path.name}"
            if path.name != "root-key.dev":
                assert root_raw not in blob and root_hex.encode() not in blob, f"root key in {path.name}"

    check()  # with the WAL live
    assert s.stop() == 0
    check()  # after the shutdown checkpoint


# --- passphrase sealing --------------------------------------------------------------------------------


def test_passphrase_sealed_root_key(fresh_server, scratch):
    passphrase = f"correct horse battery {uuid.uuid4().hex[:8]}"
    good = scratch / "pass"
    good.write_text(passphrase + "\n")
    good.chmod(0o600)
    s = fresh_server(args=["--unseal-passphrase-file", str(good)]).start()
    sealed = s.data_dir / "root-key.sealed"
    assert sealed.is_file() and mode(sealed) == 0o600
    assert not (s.data_dir / "root-key.dev").exists()
    kms = s.client()
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"sealed at rest")["CiphertextBlob"]
    assert s.stop() == 0
    assert passphrase not in s.logs()
    for path, data in data_dir_bytes(s.data_dir).items():
        assert passphrase.encode() not in data, path
    before = sealed.read_bytes()

    # The same passphrase opens it again.
    s.start()
    assert s.client().decrypt(CiphertextBlob=blob)["Plaintext"] == b"sealed at rest"
    assert s.stop() == 0

    # A wrong passphrase is refused and nothing changes.
    wrong = scratch / "wrong"
    wrong.write_text("not the passphrase\n")
    bad = fresh_server(data_dir=s.data_dir, args=["--unseal-passphrase-file", str(wrong)])
    assert bad.start(expect_exit=True) != 0
    assert "wrong passphrase" in bad.stderr.read_text()
    assert sealed.read_bytes() == before

    # No passphrase at all: refused, saying how to give it.
    none = fresh_server(data_dir=s.data_dir)
    assert none.start(expect_exit=True) != 0
    err = none.stderr.read_text()
    assert "--unseal-passphrase-file" in err and "M2SEC_UNSEAL_PASSPHRASE" in err, err
    assert not (s.data_dir / "root-key.dev").exists(), "no development key is created beside the sealed one"
    assert sealed.read_bytes() == before

    # The passphrase in M2SEC_UNSEAL_PASSPHRASE works too.
    via_env = fresh_server(data_dir=s.data_dir, env={"M2SEC_UNSEAL_PASSPHRASE": passphrase}).start()
    assert via_env.client().decrypt(CiphertextBlob=blob)["Plaintext"] == b"sealed at rest"
    assert passphrase not in via_env.logs()
    assert via_env.stop() == 0
    assert sealed.read_bytes() == before


def test_passphrase_from_environment_seals_a_new_data_dir(fresh_server):
    s = fresh_server(env={"M2SEC_UNSEAL_PASSPHRASE": "environment passphrase"}).start()
    assert (s.data_dir / "root-key.sealed").is_file() and not (s.data_dir / "root-key.dev").exists()
    blob = s.client().encrypt(KeyId=s.client().create_key()["KeyMetadata"]["KeyId"], Plaintext=b"x")["CiphertextBlob"]
    s.restart()
    assert s.client().decrypt(CiphertextBlob=blob)["Plaintext"] == b"x"


def test_passphrase_is_refused_on_a_development_data_dir(fresh_server, scratch):
    s = fresh_server().start()
    assert s.stop() == 0
    pf = scratch / "pass"
    pf.write_text("a passphrase here\n")
    again = fresh_server(data_dir=s.data_dir, args=["--unseal-passphrase-file", str(pf)])
    assert again.start(expect_exit=True) != 0
    assert "development root key" in again.stderr.read_text()
    assert not (s.data_dir / "root-key.sealed").exists()


# --- shutdown and health -----------------------------------------------------------------------------


def test_sigterm_stops_gracefully(fresh_server):
    s = fresh_server().start()
    s.client().list_keys()
    assert s.stop() == 0
    logs = s.stderr.read_text()
    assert "shutting down" in logs and "stopped" in logs
    with pytest.raises(OSError):
        urllib.request.urlopen(s.endpoint + "/health", timeout=1)


def test_health(server):
    r = send("GET", server.endpoint + "/health")
    assert r.status == 200
    assert r.headers["content-type"].startswith("application/json")
    assert r.json() == {"status": "ok", "store": "ok", "trail": "ok"}


def test_embedded_database_is_owner_only(server):
    import stat

    for name in ("m2sec.db", "m2sec.db-wal"):
        path = server.data_dir / name
        if path.exists():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, name
