"""The seed guide's SSM steps with the aws CLI, against a server of their own (the seed's fixed alias and
parameter name). The guide writes `--kms-key-id`; the aws CLI's option is `--key-id`."""
import base64

from ssm_support import param_arn

NAME = "/can2025/prod/jwt-secret"
SECRET = "your-production-secret-key"


def seed_key(server):
    """The guide's Steps 1 and 2: the JWT key and its alias."""
    key = server.aws("kms", "create-key", "--description", "M2 JWT Secret", "--region", "eu-west-1")["KeyMetadata"]
    server.aws("kms", "create-alias", "--alias-name", "alias/can2025-jwt-secret", "--target-key-id", key["KeyId"],
               "--region", "eu-west-1")
    return key


def test_seed_store_and_read_jwt_secret(fresh_server):
    server = fresh_server().start()
    key = seed_key(server)

    # As written in the guide, the aws CLI itself refuses the option.
    wrong = server.aws("ssm", "put-parameter", "--name", NAME, "--value", SECRET, "--type", "SecureString",
                       "--kms-key-id", "alias/can2025-jwt-secret", "--region", "eu-west-1", check=False)
    assert wrong.returncode != 0
    assert "--kms-key-id" in wrong.stderr

    put = server.aws("ssm", "put-parameter", "--name", NAME, "--value", SECRET, "--type", "SecureString",
                     "--key-id", "alias/can2025-jwt-secret", "--region", "eu-west-1")
    assert put["Version"] == 1
    assert put["Tier"] == "Standard"

    got = server.aws("ssm", "get-parameter", "--name", NAME, "--with-decryption", "--region", "eu-west-1")
    p = got["Parameter"]
    assert p["Name"] == NAME
    assert p["Type"] == "SecureString"
    assert p["Value"] == SECRET
    assert p["Version"] == 1
    assert p["ARN"] == "arn:aws:ssm:eu-west-1:000000000000:parameter/can2025/prod/jwt-secret"

    value = server.aws("ssm", "get-parameter", "--name", NAME, "--with-decryption", "--region", "eu-west-1",
                       "--query", "Parameter.Value", "--output", "text")
    assert value == SECRET

    # Without --with-decryption: the KMS ciphertext, which aws kms decrypt opens with the parameter's ARN
    # as encryption context, under the seed's key.
    hidden = server.aws("ssm", "get-parameter", "--name", NAME, "--region", "eu-west-1")["Parameter"]["Value"]
    assert SECRET not in hidden
    base64.b64decode(hidden, validate=True)
    context = f'{{"PARAMETER_ARN":"{param_arn(NAME)}"}}'
    out = server.bash(
        f"aws kms decrypt --ciphertext-blob fileb://<(echo '{hidden}' | base64 -d) "
        f"--encryption-context '{context}' --region eu-west-1 --output text --query Plaintext | base64 -d"
    )
    assert out.stdout == SECRET
    key_used = server.bash(
        f"aws kms decrypt --ciphertext-blob fileb://<(echo '{hidden}' | base64 -d) "
        f"--encryption-context '{context}' --region eu-west-1 --output text --query KeyId"
    )
    assert key_used.stdout.strip() == key["Arn"]
    refused = server.bash(
        f"aws kms decrypt --ciphertext-blob fileb://<(echo '{hidden}' | base64 -d) --region eu-west-1",
        check=False,
    )
    assert refused.returncode != 0 and "InvalidCiphertextException" in refused.stderr

    described = server.aws("ssm", "describe-parameters", "--parameter-filters", f"Key=Name,Values={NAME}",
                           "--region", "eu-west-1")["Parameters"]
    assert len(described) == 1
    assert described[0]["Type"] == "SecureString"
    assert described[0]["KeyId"] in ("alias/can2025-jwt-secret", key["KeyId"], key["Arn"])

    by_path = server.aws("ssm", "get-parameters-by-path", "--path", "/can2025", "--recursive", "--with-decryption",
                         "--region", "eu-west-1")["Parameters"]
    assert [(p["Name"], p["Value"]) for p in by_path] == [(NAME, SECRET)]

    # The parameter lives in eu-west-1 only.
    missing = server.aws("ssm", "get-parameter", "--name", NAME, "--region", "us-east-1", check=False,
                         region="us-east-1")
    assert missing.returncode != 0 and "ParameterNotFound" in missing.stderr


def test_seed_secret_update_and_errors(fresh_server):
    server = fresh_server().start()
    seed_key(server)
    base = ["--name", NAME, "--type", "SecureString", "--key-id", "alias/can2025-jwt-secret", "--region", "eu-west-1"]
    server.aws("ssm", "put-parameter", "--value", SECRET, *base)
    again = server.aws("ssm", "put-parameter", "--value", "rotated", *base, check=False)
    assert again.returncode != 0 and "ParameterAlreadyExists" in again.stderr
    assert server.aws("ssm", "put-parameter", "--value", "rotated", *base, "--overwrite")["Version"] == 2
    assert server.aws("ssm", "get-parameter", "--name", NAME, "--with-decryption", "--region", "eu-west-1",
                      "--query", "Parameter.Value", "--output", "text") == "rotated"
    assert server.aws("ssm", "get-parameter", "--name", f"{NAME}:1", "--with-decryption", "--region", "eu-west-1",
                      "--query", "Parameter.Value", "--output", "text") == SECRET
    history = server.aws("ssm", "get-parameter-history", "--name", NAME, "--with-decryption",
                         "--region", "eu-west-1")["Parameters"]
    assert [h["Value"] for h in history] == [SECRET, "rotated"]
    bad_key = server.aws("ssm", "put-parameter", "--name", "/can2025/prod/other", "--value", "x", "--type",
                         "SecureString", "--key-id", "alias/can2025-missing", "--region", "eu-west-1", check=False)
    assert bad_key.returncode != 0 and "InvalidKeyId" in bad_key.stderr
    server.aws("ssm", "delete-parameter", "--name", NAME, "--region", "eu-west-1")
    gone = server.aws("ssm", "get-parameter", "--name", NAME, "--region", "eu-west-1", check=False)
    assert gone.returncode != 0 and "ParameterNotFound" in gone.stderr
