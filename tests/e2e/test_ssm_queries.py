"""SSM queries through boto3: GetParametersByPath, DescribeParameters and GetParameterHistory, with their
filters and pagination. Tests that count results work in a region of their own."""
import datetime

import pytest

from ssm_support import (  # noqa: F401  (fixtures)
    ACCOUNT,
    all_pages,
    expect_error,
    names_of,
    param_arn,
    raw_ssm,
    region,
    ssm,
    unchecked_client,
    unique,
)


@pytest.fixture
def tree(server, region):
    """A small hierarchy in a region of the test's own. Returns (client, names by short key)."""
    c = server.client("ssm", region=region)
    names = {
        "top": "/top",
        "a": "/app/a",
        "b": "/app/b",
        "c": "/app/sub/c",
        "d": "/app/sub/deep/d",
        "e": "/other/e",
        "x": "/apple/x",
        "s": "/app/secret",
    }
    for key, name in names.items():
        if key == "s":
            c.put_parameter(Name=name, Value="s3cr3t-value", Type="SecureString")
        elif key == "b":
            c.put_parameter(Name=name, Value="b1,b2", Type="StringList")
        else:
            c.put_parameter(Name=name, Value=f"value-{key}", Type="String")
    return c, names


def by_path(c, path, **kw):
    items, _ = all_pages(c.get_parameters_by_path, "Parameters", Path=path, **kw)
    return names_of(items)


def test_by_path_one_level_and_recursive(tree):
    c, n = tree
    assert by_path(c, "/app") == sorted([n["a"], n["b"], n["s"]])
    assert by_path(c, "/app/") == sorted([n["a"], n["b"], n["s"]])
    assert by_path(c, "/app", Recursive=False) == sorted([n["a"], n["b"], n["s"]])
    assert by_path(c, "/app", Recursive=True) == sorted([n["a"], n["b"], n["s"], n["c"], n["d"]])
    assert by_path(c, "/app/sub") == [n["c"]]
    assert by_path(c, "/app/sub", Recursive=True) == sorted([n["c"], n["d"]])
    assert by_path(c, "/apple") == [n["x"]]
    assert by_path(c, "/nothing/here", Recursive=True) == []
    assert by_path(c, "/") == [n["top"]]
    assert by_path(c, "/", Recursive=True) == sorted(n.values())
    # The path is a hierarchy, not a parameter: a parameter's own name returns nothing of itself.
    assert by_path(c, "/app/a") == []


def test_by_path_output_shape(tree, region):
    c, n = tree
    items = c.get_parameters_by_path(Path="/app/sub", Recursive=True)["Parameters"]
    by_name = {p["Name"]: p for p in items}
    p = by_name[n["c"]]
    assert p["Type"] == "String"
    assert p["Value"] == "value-c"
    assert p["Version"] == 1
    assert p["ARN"] == param_arn(n["c"], region)
    assert p["DataType"] == "text"
    assert isinstance(p["LastModifiedDate"], datetime.datetime)


def test_by_path_with_decryption(tree):
    c, n = tree
    plain = {p["Name"]: p["Value"] for p in c.get_parameters_by_path(Path="/app", WithDecryption=True)["Parameters"]}
    assert plain[n["s"]] == "s3cr3t-value"
    assert plain[n["a"]] == "value-a"
    assert plain[n["b"]] == "b1,b2"
    hidden = {p["Name"]: p["Value"] for p in c.get_parameters_by_path(Path="/app")["Parameters"]}
    assert hidden[n["s"]] != "s3cr3t-value" and "s3cr3t" not in hidden[n["s"]]
    assert hidden[n["a"]] == "value-a"


def test_by_path_must_start_with_slash(ssm):
    expect_error("ValidationException", ssm.get_parameters_by_path, Path="app/sub")
    expect_error("ValidationException", ssm.get_parameters_by_path, Path="app")


def test_by_path_paging(server, region, raw_ssm):
    c = server.client("ssm", region=region)
    names = [f"/page/p{i:02d}" for i in range(25)]
    for name in names:
        c.put_parameter(Name=name, Value="v", Type="String")
    items, pages = all_pages(c.get_parameters_by_path, "Parameters", Path="/page", MaxResults=10)
    assert sorted(p["Name"] for p in items) == names  # every one, exactly once
    assert pages >= 3
    first = c.get_parameters_by_path(Path="/page", MaxResults=10)
    assert 0 < len(first["Parameters"]) <= 10 and first["NextToken"]
    items, _ = all_pages(c.get_parameters_by_path, "Parameters", Path="/page", MaxResults=7)
    assert len(items) == 25
    raw = unchecked_client(server, region=region)
    expect_error("ValidationException", raw.get_parameters_by_path, Path="/page", MaxResults=11)
    expect_error("ValidationException", raw.get_parameters_by_path, Path="/page", MaxResults=0)
    expect_error("InvalidNextToken", c.get_parameters_by_path, Path="/page", NextToken="not-a-token")


def test_by_path_filters(server, region):
    c = server.client("ssm", region=region)
    kms = server.client("kms", region=region)
    key = kms.create_key(Description="by-path filter key")["KeyMetadata"]
    c.put_parameter(Name="/f/plain", Value="p", Type="String")
    c.put_parameter(Name="/f/list", Value="a,b", Type="StringList")
    c.put_parameter(Name="/f/default-key", Value="s1", Type="SecureString")
    c.put_parameter(Name="/f/own-key", Value="s2", Type="SecureString", KeyId=key["KeyId"])
    c.put_parameter(Name="/f/labelled", Value="l1", Type="String")
    c.label_parameter_version(Name="/f/labelled", Labels=["Production"])

    def q(*filters, **kw):
        return by_path(c, "/f", ParameterFilters=list(filters), **kw)

    assert q({"Key": "Type", "Option": "Equals", "Values": ["SecureString"]}) == ["/f/default-key", "/f/own-key"]
    assert q({"Key": "Type", "Values": ["String", "StringList"]}) == ["/f/labelled", "/f/list", "/f/plain"]
    assert q({"Key": "KeyId", "Option": "Equals", "Values": ["alias/aws/ssm"]}) == ["/f/default-key"]
    assert q({"Key": "KeyId", "Values": [key["KeyId"]]}) == ["/f/own-key"]
    assert q({"Key": "Label", "Option": "Equals", "Values": ["Production"]}) == ["/f/labelled"]
    assert q({"Key": "Label", "Values": ["Staging"]}) == []
    assert q({"Key": "Type", "Values": ["SecureString"]}, {"Key": "KeyId", "Values": ["alias/aws/ssm"]}) == [
        "/f/default-key"]
    decrypted = c.get_parameters_by_path(
        Path="/f", WithDecryption=True, ParameterFilters=[{"Key": "Type", "Values": ["SecureString"]}])["Parameters"]
    assert sorted(p["Value"] for p in decrypted) == ["s1", "s2"]


def test_by_path_begins_with_option(server, region):
    # The model: "For filters used with GetParametersByPath, valid options include Equals and BeginsWith.
    # (Exception: For filters using Label as the Key name, the only valid option is Equals.)"
    c = server.client("ssm", region=region)
    c.put_parameter(Name="/bw/plain", Value="p", Type="String")
    c.put_parameter(Name="/bw/list", Value="a,b", Type="StringList")
    c.put_parameter(Name="/bw/secret", Value="s", Type="SecureString")
    assert by_path(c, "/bw", ParameterFilters=[{"Key": "Type", "Option": "BeginsWith", "Values": ["StringL"]}]) == [
        "/bw/list"]
    assert by_path(c, "/bw", ParameterFilters=[{"Key": "KeyId", "Option": "BeginsWith", "Values": ["alias/aws/"]}]) == [
        "/bw/secret"]


@pytest.mark.parametrize("key", ["Name", "Path", "Tier", "DataType"])
def test_by_path_unsupported_filter_keys(ssm, key):
    # The model: "The following Key values aren't supported for GetParametersByPath: tag, DataType, Name,
    # Path, and Tier."
    expect_error("InvalidFilterKey", ssm.get_parameters_by_path, Path="/",
                 ParameterFilters=[{"Key": key, "Values": ["x"]}])


def test_by_path_tag_filter_is_not_supported(ssm):
    expect_error("InvalidFilterKey", ssm.get_parameters_by_path, Path="/",
                 ParameterFilters=[{"Key": "tag:env", "Values": ["x"]}])


def test_by_path_label_filter_takes_only_equals(ssm):
    expect_error("InvalidFilterOption", ssm.get_parameters_by_path, Path="/",
                 ParameterFilters=[{"Key": "Label", "Option": "BeginsWith", "Values": ["Prod"]}])


@pytest.fixture
def described(server, region):
    """Parameters of several kinds in a region of the test's own."""
    c = server.client("ssm", region=region)
    kms = server.client("kms", region=region)
    key = kms.create_key(Description="describe filter key")["KeyMetadata"]
    c.put_parameter(Name="/d/one/alpha", Value="a", Type="String", Description="first",
                    Tags=[{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "payments"}])
    c.put_parameter(Name="/d/one/beta", Value="b1,b2", Type="StringList", Tier="Advanced",
                    Tags=[{"Key": "env", "Value": "dev"}])
    c.put_parameter(Name="/d/one/two/gamma", Value="g", Type="SecureString")
    c.put_parameter(Name="/d/one/two/delta", Value="d", Type="SecureString", KeyId=key["KeyId"])
    c.put_parameter(Name="/d/image", Value="ami-0abcdef1234567890", Type="String", DataType="aws:ec2:image")
    c.put_parameter(Name="/e/zeta", Value="z", Type="String", AllowedPattern="^[a-z]$",
                    Tags=[{"Key": "env", "Value": "production"}])
    c.put_parameter(Name="flat-param", Value="f", Type="String")
    return c, key


def describe(c, *filters, **kw):
    if filters:
        kw["ParameterFilters"] = list(filters)
    items, _ = all_pages(c.describe_parameters, "Parameters", **kw)
    return names_of(items)


ALL_DESCRIBED = sorted(["/d/one/alpha", "/d/one/beta", "/d/one/two/gamma", "/d/one/two/delta", "/d/image",
                        "/e/zeta", "flat-param"])


def test_describe_everything_and_shape(described, region):
    c, key = described
    assert describe(c) == ALL_DESCRIBED
    meta = {m["Name"]: m for m in c.describe_parameters(MaxResults=50)["Parameters"]}
    alpha = meta["/d/one/alpha"]
    assert alpha["Type"] == "String"
    assert alpha["Description"] == "first"
    assert alpha["Version"] == 1
    assert alpha["Tier"] == "Standard"
    assert alpha["DataType"] == "text"
    assert alpha["ARN"] == param_arn("/d/one/alpha", region)
    assert alpha["LastModifiedUser"].startswith(f"arn:aws:iam::{ACCOUNT}:")
    assert isinstance(alpha["LastModifiedDate"], datetime.datetime)
    assert "Value" not in alpha and "KeyId" not in alpha
    assert meta["/d/one/beta"]["Tier"] == "Advanced"
    assert meta["/d/one/two/gamma"]["KeyId"] == "alias/aws/ssm"
    assert meta["/d/one/two/delta"]["KeyId"] in (key["KeyId"], key["Arn"])
    assert meta["/d/image"]["DataType"] == "aws:ec2:image"
    assert meta["/e/zeta"]["AllowedPattern"] == "^[a-z]$"
    assert meta["flat-param"]["ARN"] == param_arn("flat-param", region)


def test_describe_name_filters(described):
    c, _ = described
    assert describe(c, {"Key": "Name", "Option": "Equals", "Values": ["/d/one/alpha"]}) == ["/d/one/alpha"]
    assert describe(c, {"Key": "Name", "Values": ["/d/one/alpha", "/e/zeta"]}) == ["/d/one/alpha", "/e/zeta"]
    assert describe(c, {"Key": "Name", "Option": "Equals", "Values": ["/d/one"]}) == []
    assert describe(c, {"Key": "Name", "Option": "BeginsWith", "Values": ["/d/one/"]}) == sorted(
        ["/d/one/alpha", "/d/one/beta", "/d/one/two/gamma", "/d/one/two/delta"])
    assert describe(c, {"Key": "Name", "Option": "BeginsWith", "Values": ["/d/one/two/g", "/e"]}) == [
        "/d/one/two/gamma", "/e/zeta"]


def test_describe_name_contains(described):
    # The model: "The Name filter additionally supports the Contains option."
    c, _ = described
    assert describe(c, {"Key": "Name", "Option": "Contains", "Values": ["one/"]}) == sorted(
        ["/d/one/alpha", "/d/one/beta", "/d/one/two/gamma", "/d/one/two/delta"])
    assert describe(c, {"Key": "Name", "Option": "Contains", "Values": ["et"]}) == ["/d/one/beta", "/e/zeta"]
    assert describe(c, {"Key": "Name", "Option": "Contains", "Values": ["param"]}) == ["flat-param"]


def test_describe_path_filters(described):
    c, _ = described
    assert describe(c, {"Key": "Path", "Option": "OneLevel", "Values": ["/d/one"]}) == ["/d/one/alpha", "/d/one/beta"]
    assert describe(c, {"Key": "Path", "Values": ["/d/one"]}) == ["/d/one/alpha", "/d/one/beta"]  # OneLevel default
    assert describe(c, {"Key": "Path", "Option": "Recursive", "Values": ["/d/one"]}) == sorted(
        ["/d/one/alpha", "/d/one/beta", "/d/one/two/gamma", "/d/one/two/delta"])
    assert describe(c, {"Key": "Path", "Option": "Recursive", "Values": ["/d"]}) == sorted(
        ["/d/one/alpha", "/d/one/beta", "/d/one/two/gamma", "/d/one/two/delta", "/d/image"])
    assert describe(c, {"Key": "Path", "Option": "OneLevel", "Values": ["/e"]}) == ["/e/zeta"]
    assert describe(c, {"Key": "Path", "Option": "OneLevel", "Values": ["/"]}) == []
    expect_error("InvalidFilterOption", c.describe_parameters,
                 ParameterFilters=[{"Key": "Path", "Option": "Equals", "Values": ["/d"]}])


def test_describe_type_key_tier_datatype_filters(described):
    c, key = described
    assert describe(c, {"Key": "Type", "Values": ["SecureString"]}) == ["/d/one/two/delta", "/d/one/two/gamma"]
    assert describe(c, {"Key": "Type", "Values": ["StringList"]}) == ["/d/one/beta"]
    assert describe(c, {"Key": "KeyId", "Values": ["alias/aws/ssm"]}) == ["/d/one/two/gamma"]
    assert describe(c, {"Key": "KeyId", "Values": [key["KeyId"]]}) == ["/d/one/two/delta"]
    assert describe(c, {"Key": "Tier", "Values": ["Advanced"]}) == ["/d/one/beta"]
    assert describe(c, {"Key": "Tier", "Values": ["Standard"]}) == sorted(set(ALL_DESCRIBED) - {"/d/one/beta"})
    assert describe(c, {"Key": "DataType", "Values": ["aws:ec2:image"]}) == ["/d/image"]
    assert describe(c, {"Key": "DataType", "Values": ["text"]}) == sorted(set(ALL_DESCRIBED) - {"/d/image"})
    # Several filters: all must hold.
    assert describe(c, {"Key": "Path", "Option": "Recursive", "Values": ["/d"]},
                    {"Key": "Type", "Values": ["String"]}) == ["/d/image", "/d/one/alpha"]


def test_describe_tag_filters(described):
    c, _ = described
    assert describe(c, {"Key": "tag:env", "Values": ["prod"]}) == ["/d/one/alpha"]
    assert describe(c, {"Key": "tag:env", "Option": "Equals", "Values": ["prod", "dev"]}) == [
        "/d/one/alpha", "/d/one/beta"]
    assert describe(c, {"Key": "tag:team", "Values": ["payments"]}) == ["/d/one/alpha"]
    assert describe(c, {"Key": "tag:nope", "Values": ["x"]}) == []


def test_describe_begins_with_option(described):
    # The model: "For all filters used with DescribeParameters, valid options include Equals and BeginsWith."
    c, _ = described
    assert describe(c, {"Key": "tag:env", "Option": "BeginsWith", "Values": ["prod"]}) == ["/d/one/alpha", "/e/zeta"]
    assert describe(c, {"Key": "Type", "Option": "BeginsWith", "Values": ["StringL"]}) == ["/d/one/beta"]
    assert describe(c, {"Key": "DataType", "Option": "BeginsWith", "Values": ["aws:"]}) == ["/d/image"]
    assert describe(c, {"Key": "KeyId", "Option": "BeginsWith", "Values": ["alias/aws/"]}) == ["/d/one/two/gamma"]


def test_describe_label_filter_is_not_valid(described):
    # The model: "For DescribeParameters, all of the listed patterns are valid except Label."
    c, _ = described
    expect_error("InvalidFilterKey", c.describe_parameters,
                 ParameterFilters=[{"Key": "Label", "Values": ["Production"]}])


def test_describe_legacy_filters(described):
    c, key = described
    assert describe(c, Filters=[{"Key": "Name", "Values": ["/d/one/alpha"]}]) == ["/d/one/alpha"]
    assert describe(c, Filters=[{"Key": "Type", "Values": ["StringList"]}]) == ["/d/one/beta"]
    assert describe(c, Filters=[{"Key": "KeyId", "Values": ["alias/aws/ssm"]}]) == ["/d/one/two/gamma"]


def test_describe_filters_and_parameter_filters_together(described):
    c, _ = described
    expect_error("ValidationException", c.describe_parameters,
                 Filters=[{"Key": "Type", "Values": ["String"]}],
                 ParameterFilters=[{"Key": "Type", "Values": ["String"]}])


def test_describe_invalid_filter_values(described):
    c, _ = described
    expect_error("InvalidFilterOption", c.describe_parameters,
                 ParameterFilters=[{"Key": "Type", "Option": "Contains", "Values": ["String"]}])


def test_describe_paging(server, region):
    c = server.client("ssm", region=region)
    names = [f"/many/p{i:02d}" for i in range(12)]
    for name in names:
        c.put_parameter(Name=name, Value="v", Type="String")
    items, pages = all_pages(c.describe_parameters, "Parameters", MaxResults=5)
    assert names_of(items) == names
    assert pages >= 3
    first = c.describe_parameters(MaxResults=5)
    assert 0 < len(first["Parameters"]) <= 5 and first["NextToken"]
    assert len(c.describe_parameters(MaxResults=50)["Parameters"]) == 12
    raw = unchecked_client(server, region=region)
    expect_error("ValidationException", raw.describe_parameters, MaxResults=51)
    expect_error("InvalidNextToken", c.describe_parameters, NextToken="not-a-token")


def test_parameter_history(ssm):
    name = unique() + "/history"
    ssm.put_parameter(Name=name, Value="v1", Type="String", Description="first")
    ssm.put_parameter(Name=name, Value="v2", Type="String", Description="second", Overwrite=True)
    ssm.put_parameter(Name=name, Value="v3", Type="String", Description="third", Overwrite=True,
                      AllowedPattern="^v[0-9]$")
    ssm.label_parameter_version(Name=name, ParameterVersion=2, Labels=["stable", "blue"])
    ssm.label_parameter_version(Name=name, Labels=["latest"])
    history = ssm.get_parameter_history(Name=name)["Parameters"]
    assert [h["Version"] for h in history] == [1, 2, 3]
    assert [h["Value"] for h in history] == ["v1", "v2", "v3"]
    assert [h["Description"] for h in history] == ["first", "second", "third"]
    assert [sorted(h.get("Labels", [])) for h in history] == [[], ["blue", "stable"], ["latest"]]
    for h in history:
        assert h["Name"] == name
        assert h["Type"] == "String"
        assert h["Tier"] == "Standard"
        assert h["DataType"] == "text"
        assert h["LastModifiedUser"].startswith(f"arn:aws:iam::{ACCOUNT}:")
        assert isinstance(h["LastModifiedDate"], datetime.datetime)
    assert history[2]["AllowedPattern"] == "^v[0-9]$"
    expect_error("ParameterNotFound", ssm.get_parameter_history, Name=unique() + "/none")


def test_parameter_history_paging(ssm, raw_ssm):
    name = unique() + "/paged-history"
    for i in range(1, 8):
        ssm.put_parameter(Name=name, Value=f"v{i}", Type="String", Overwrite=i > 1)
    items, pages = all_pages(ssm.get_parameter_history, "Parameters", Name=name, MaxResults=3)
    assert [h["Version"] for h in items] == list(range(1, 8))
    assert pages >= 3
    expect_error("ValidationException", raw_ssm.get_parameter_history, Name=name, MaxResults=51)


def test_parameter_history_with_decryption(ssm):
    name = unique() + "/secret-history"
    ssm.put_parameter(Name=name, Value="secret-one", Type="SecureString")
    ssm.put_parameter(Name=name, Value="secret-two", Type="SecureString", Overwrite=True)
    plain = ssm.get_parameter_history(Name=name, WithDecryption=True)["Parameters"]
    assert [h["Value"] for h in plain] == ["secret-one", "secret-two"]
    assert all(h["KeyId"] == "alias/aws/ssm" for h in plain)
    hidden = ssm.get_parameter_history(Name=name)["Parameters"]
    assert all("secret" not in h["Value"] for h in hidden)
    assert hidden[0]["Value"] != hidden[1]["Value"]
