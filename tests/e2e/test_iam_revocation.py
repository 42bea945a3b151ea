"""Revoking access keys on the node that serves the IAM call: a key made inactive or deleted signs no
request after the call has been answered, though the node caches keys for `cache_ttl_ms` (1 s). And keys
are bound to the user's unique id, as in AWS: a user deleted and created again under the same name
never inherits a key of the first."""
import sqlite3
import threading
import time

import botocore.exceptions

from iam_support import Identity, unique, wait_usable

# Longer than the cache TTL (1 s): a cached key would have been used in this window.
WATCH_SECONDS = 1.5


def user_with_key(server):
    iam = server.client("iam")
    name = unique("revoked")
    user = iam.create_user(UserName=name)["User"]
    key = iam.create_access_key(UserName=name)["AccessKey"]
    identity = wait_usable(server, Identity(key["AccessKeyId"], key["SecretAccessKey"], user["Arn"], name=name))
    return identity, user


def outcomes(sts, seconds=WATCH_SECONDS):
    """Calls GetCallerIdentity for `seconds`: (successes, error codes of the failures)."""
    successes, codes = [], set()
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            successes.append(sts.get_caller_identity())
        except botocore.exceptions.ClientError as e:
            codes.add(e.response["Error"]["Code"])
    return successes, codes


def after(sts, change):
    """Keeps signing calls with the key while `change()` runs, so that a node caching keys holds this one
    freshly loaded when the change is answered; then `outcomes` of the calls begun after it returned.
    (The change is made with boto3, which returns as soon as the answer arrives: the aws CLI takes a
    while to exit after it, long enough for a cached key to expire and hide a stale cache.)"""
    sts.get_caller_identity()
    done, failure = threading.Event(), []

    def run():
        try:
            change()
        except BaseException as e:  # noqa: BLE001 - re-raised below, in the test's thread
            failure.append(e)
        done.set()

    thread = threading.Thread(target=run)
    thread.start()
    while not done.is_set():
        try:
            sts.get_caller_identity()
        except botocore.exceptions.ClientError:
            pass
    thread.join()
    if failure:
        raise failure[0]
    return outcomes(sts)


def test_an_inactive_key_fails_on_the_very_next_call(server):
    identity, _ = user_with_key(server)
    sts, iam = identity.client(server, "sts"), server.client("iam")
    successes, codes = after(sts, lambda: iam.update_access_key(
        UserName=identity.name, AccessKeyId=identity.access_key, Status="Inactive"))
    assert successes == [], f"{len(successes)} calls signed with the inactive key succeeded"
    assert codes == {"InvalidClientTokenId"}

    # Made active again (with the aws CLI this time), it works again at once.
    server.aws("iam", "update-access-key", "--user-name", identity.name, "--access-key-id", identity.access_key,
               "--status", "Active")
    assert sts.get_caller_identity()["Arn"] == identity.arn


def test_a_deleted_key_fails_on_the_very_next_call(server):
    identity, _ = user_with_key(server)
    sts, iam = identity.client(server, "sts"), server.client("iam")
    successes, codes = after(sts, lambda: iam.delete_access_key(
        UserName=identity.name, AccessKeyId=identity.access_key))
    assert successes == [], f"{len(successes)} calls signed with the deleted key succeeded"
    assert codes == {"InvalidClientTokenId"}


def test_a_user_created_again_under_the_same_name_never_signs_with_the_old_key(server):
    identity, first = user_with_key(server)
    sts = identity.client(server, "sts")
    iam = server.client("iam")
    second = {}

    def delete_and_create_again():
        iam.delete_access_key(UserName=identity.name, AccessKeyId=identity.access_key)
        iam.delete_user(UserName=identity.name)
        second.update(iam.create_user(UserName=identity.name)["User"])

    successes, _ = after(sts, delete_and_create_again)
    assert second["UserId"] != first["UserId"]
    assert [s["UserId"] for s in successes] == [], "the old key signed as the new user"


def test_a_key_left_behind_by_a_deleted_user_does_not_sign_as_a_new_user_of_that_name(fresh_server):
    """The store keeps a key whose user is gone (IAM refuses to delete a user with keys, but two nodes
    racing, or a restored backup, can leave one): the key names the user's unique id, not the name."""
    s = fresh_server().start()
    identity, first = user_with_key(s)
    assert identity.client(s, "sts").get_caller_identity()["UserId"] == first["UserId"]
    assert s.stop() == 0
    with sqlite3.connect(s.data_dir / "m2sec.db") as db:
        gone = db.execute("DELETE FROM documents WHERE kind = 'iam-user' AND name = ?", (identity.name,)).rowcount
    db.close()
    assert gone == 1

    s.restart()
    iam = s.client("iam")
    second = iam.create_user(UserName=identity.name)["User"]
    assert second["UserId"] != first["UserId"]
    listed = iam.list_access_keys(UserName=identity.name)["AccessKeyMetadata"]
    assert [k["AccessKeyId"] for k in listed] == [identity.access_key], "the old key is still stored"

    sts = identity.client(s, "sts")
    successes, codes = outcomes(sts)
    assert [r["UserId"] for r in successes] == [], "the old key signed as the new user"
    assert codes == {"InvalidClientTokenId"}

    # The new user's own key works; the leftover one can be deleted, then the user too.
    key = iam.create_access_key(UserName=identity.name)["AccessKey"]
    new = wait_usable(s, Identity(key["AccessKeyId"], key["SecretAccessKey"], second["Arn"]))
    assert new.client(s, "sts").get_caller_identity()["UserId"] == second["UserId"]
    for k in (identity.access_key, key["AccessKeyId"]):
        iam.delete_access_key(UserName=identity.name, AccessKeyId=k)
    iam.delete_user(UserName=identity.name)
