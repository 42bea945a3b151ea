"""A data dir that lost its root key is refused, not given a new one: m2sec exits non-zero, names the
missing file and the data dir, and changes nothing. Only a new deployment (an empty data dir, and an
empty store when the store lives elsewhere) gets a root key."""
import hashlib
import os
import stat
import subprocess
import uuid

import pytest


PG = os.environ.get("M2SEC_TEST_POSTGRES_URL")


def snapshot(path):
    """Every entry under `path` with its mode, and each file's SHA-256."""
    out = {}
    for p in sorted([path, *path.rglob("*")]):
        mode = stat.S_IMODE(os.lstat(p).st_mode)
        digest = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
        out[str(p.relative_to(path))] = (mode, digest)
    return out


def refused(server, missing):
    """Starts `server`, which must exit non-zero; returns its error output, checked to name the missing
    file and the data dir and to say what to do."""
    assert server.start(expect_exit=True) != 0
    err = server.stderr.read_text()
    assert f"{missing} is missing from the data dir {server.data_dir}" in err, err
    assert "Nothing was changed" in err, err
    assert "empty data dir" in err, err
    return err


def used_data_dir(fresh_server, **kw):
    """A data dir after one run: a KMS key and a ciphertext of it; returns (server, key id, ciphertext)."""
    s = fresh_server(**kw).start()
    kms = s.client()
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"kept under the old root key")["CiphertextBlob"]
    assert s.stop() == 0
    return s, key_id, blob


def test_a_data_dir_with_data_and_no_root_key_is_refused_and_left_unchanged(fresh_server, tmp_path):
    s, _, blob = used_data_dir(fresh_server)
    key_file = s.data_dir / "root-key.dev"
    kept = tmp_path / "root-key.dev"
    key_file.rename(kept)
    before = snapshot(s.data_dir)
    assert "m2sec.db" in before

    err = refused(fresh_server(data_dir=s.data_dir), "root-key.dev")
    assert "m2sec.db" in err, err
    assert snapshot(s.data_dir) == before, "the data dir changed"
    assert "does not unseal" not in err, "refused before anything is opened"

    # The file put back, the data is there again.
    kept.rename(key_file)
    again = fresh_server(data_dir=s.data_dir).start()
    assert again.client().decrypt(CiphertextBlob=blob)["Plaintext"] == b"kept under the old root key"


def test_admin_credentials_alone_count_as_data(fresh_server):
    """The first start without an admin pair in the environment writes `credentials`; the store and the
    key gone, that file alone still marks the data dir as used."""
    s = fresh_server(admin=False).start()
    assert s.stop() == 0
    for p in s.data_dir.iterdir():
        if p.name != "credentials":
            p.unlink()
    before = snapshot(s.data_dir)
    err = refused(fresh_server(data_dir=s.data_dir, admin=False), "root-key.dev")
    assert "(credentials)" in err, err
    assert snapshot(s.data_dir) == before


def test_a_sealed_data_dir_that_lost_its_key_file_names_the_sealed_file(fresh_server, tmp_path):
    passphrase = tmp_path / "pass"
    passphrase.write_text("correct horse battery staple\n")
    args = ["--unseal-passphrase-file", str(passphrase)]
    s, _, _ = used_data_dir(fresh_server, args=args)
    (s.data_dir / "root-key.sealed").unlink()
    before = snapshot(s.data_dir)
    refused(fresh_server(data_dir=s.data_dir, args=args), "root-key.sealed")
    assert snapshot(s.data_dir) == before
    assert not (s.data_dir / "root-key.sealed").exists() and not (s.data_dir / "root-key.dev").exists()


@pytest.mark.parametrize("where", ["existing empty dir", "dir to create"])
def test_an_empty_data_dir_gets_a_root_key_as_before(fresh_server, tmp_path, where):
    data = tmp_path / "data"
    if where == "existing empty dir":
        data.mkdir()
    s = fresh_server(data_dir=data).start()
    assert (data / "root-key.dev").is_file() and (data / "m2sec.db").is_file()
    assert s.client().list_keys()["Keys"] == []


def fresh_postgres():
    name = "m2sec_" + uuid.uuid4().hex[:12]
    subprocess.run(["psql", PG, "-q", "-c", f"CREATE DATABASE {name}"], check=True, capture_output=True)
    return PG.rsplit("/", 1)[0] + "/" + name


STORES = [
    "sqlite",
    pytest.param("postgres", marks=pytest.mark.skipif(not PG, reason="M2SEC_TEST_POSTGRES_URL not set")),
]


@pytest.mark.parametrize("kind", STORES)
def test_an_empty_data_dir_is_refused_when_the_store_elsewhere_holds_data(fresh_server, tmp_path, kind):
    """The store outside the data dir (`--store`): a new data dir beside a store holding data means the
    root key that data was written under is missing."""
    if kind == "sqlite":
        db = tmp_path / "elsewhere.db"
        url = f"sqlite://{db}?mode=rwc"
    else:
        url = fresh_postgres()
    first, _, _ = used_data_dir(fresh_server, args=["--store", url])
    # The database and the contents of its WAL. Not the -shm WAL index (shared memory every reader
    # writes to); and an empty WAL is no WAL, as SQLite makes both files for any reader.
    store_files = lambda: {p.name: p.read_bytes() for p in tmp_path.glob("elsewhere.db*")  # noqa: E731
                           if not p.name.endswith("-shm") and p.stat().st_size > 0}
    store_before = store_files() if kind == "sqlite" else None

    empty = tmp_path / "new-data-dir"
    empty.mkdir()
    err = refused(fresh_server(data_dir=empty, args=["--store", url]), "root-key.dev")
    assert "--store" in err and "already holds data" in err, err
    assert "postgres://" not in err and "sqlite://" not in err, "the store URL (and any password) is not shown"
    assert list(empty.iterdir()) == [], "no root key was written"
    if kind == "sqlite":
        assert store_files() == store_before, "the store was not touched"

    # With the first data dir's key the store opens as before.
    (empty / "root-key.dev").write_bytes((first.data_dir / "root-key.dev").read_bytes())
    os.chmod(empty / "root-key.dev", 0o600)
    fresh_server(data_dir=empty, args=["--store", url]).start()


@pytest.mark.parametrize("kind", STORES)
def test_an_empty_data_dir_and_an_empty_store_elsewhere_start(fresh_server, tmp_path, kind):
    url = f"sqlite://{tmp_path / 'new.db'}?mode=rwc" if kind == "sqlite" else fresh_postgres()
    s = fresh_server(args=["--store", url]).start()
    assert (s.data_dir / "root-key.dev").is_file()
    assert not (s.data_dir / "m2sec.db").exists()
    kms = s.client()
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    assert kms.decrypt(CiphertextBlob=kms.encrypt(KeyId=key_id, Plaintext=b"x")["CiphertextBlob"])["Plaintext"] == b"x"
