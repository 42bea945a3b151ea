"""`m2sec serve --bootstrap serverless.yml`: the guide's iamRoleStatements become an enforced IAM role."""
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

FIXTURE = Path(__file__).parent / "fixtures" / "serverless.yml"


def test_the_guides_statements_become_an_enforced_role(fresh_server):
    s = fresh_server(args=["--bootstrap", str(FIXTURE), "--bootstrap-role", "can2025-secure-gates-lambda"]).start()
    iam = s.client("iam", region="us-east-1")
    doc = iam.get_role_policy(RoleName="can2025-secure-gates-lambda", PolicyName="iamRoleStatements")["PolicyDocument"]
    actions = sorted(a for st in doc["Statement"] for a in st["Action"])
    assert actions == ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "ssm:GetParameter", "ssm:GetParameters"]
    resources = sorted(r for st in doc["Statement"] for r in st["Resource"])
    assert resources == ["arn:aws:kms:eu-west-1:*:key/*", "arn:aws:ssm:eu-west-1:*:parameter/can2025/*"]

    kms = s.client("kms")
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    ct = kms.encrypt(KeyId=key, Plaintext=b"can2025")["CiphertextBlob"]
    creds = s.client("sts", region="us-east-1").assume_role(
        RoleArn="arn:aws:iam::000000000000:role/can2025-secure-gates-lambda", RoleSessionName="verifyTicket"
    )["Credentials"]
    lam = s.client("kms", access_key=creds["AccessKeyId"], secret_key=creds["SecretAccessKey"],
                   aws_session_token=creds["SessionToken"])
    assert lam.decrypt(CiphertextBlob=ct)["Plaintext"] == b"can2025"
    with pytest.raises(ClientError) as e:
        lam.create_key()
    assert e.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "assumed-role/can2025-secure-gates-lambda/verifyTicket" in e.value.response["Error"]["Message"]

    # Restarting with the same file updates the role in place.
    s.restart()
    assert s.client("iam", region="us-east-1").get_role(RoleName="can2025-secure-gates-lambda")["Role"]["RoleName"]


def test_a_file_without_statements_is_refused_before_anything_is_created(fresh_server, tmp_path):
    bad = tmp_path / "empty.yml"
    bad.write_text("service: x\nprovider:\n  name: aws\n")
    s = fresh_server(args=["--bootstrap", str(bad)])
    assert s.start(expect_exit=True) != 0
    assert "iamRoleStatements" in s.logs()
    assert not (s.data_dir / "m2sec.db").exists()
