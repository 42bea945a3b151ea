"""SSM Parameter Store through boto3: PutParameter (types, versions, tiers, data types, patterns, names),
GetParameter and GetParameters (selectors), DeleteParameter(s), regions, and the SSM operations m2sec
does not implement."""
import datetime

import pytest

from ssm_support import (  # noqa: F401  (fixtures)
    ACCOUNT,
    error_code,
    expect_error,
    param_arn,
    raw_ssm,
    ssm,
    ssm_us,
    unique,
)


def test_put_string_and_get(ssm):
    name = unique() + "/db/host"
    out = ssm.put_parameter(Name=name, Value="db.internal", Type="String", Description="the db host")
    assert out["Version"] == 1
    assert out["Tier"] == "Standard"
    p = ssm.get_parameter(Name=name)["Parameter"]
    assert p["Name"] == name
    assert p["Type"] == "String"
    assert p["Value"] == "db.internal"
    assert p["Version"] == 1
    assert p["DataType"] == "text"
    assert p["ARN"] == f"arn:aws:ssm:eu-west-1:{ACCOUNT}:parameter{name}"
    assert isinstance(p["LastModifiedDate"], datetime.datetime)
    age = datetime.datetime.now(datetime.timezone.utc) - p["LastModifiedDate"]
    assert abs(age.total_seconds()) < 120
    assert "Selector" not in p


def test_put_string_list(ssm):
    name = unique() + "/hosts"
    assert ssm.put_parameter(Name=name, Value="a.example,b.example,c.example", Type="StringList")["Version"] == 1
    p = ssm.get_parameter(Name=name)["Parameter"]
    assert p["Type"] == "StringList"
    assert p["Value"] == "a.example,b.example,c.example"


def test_put_secure_string_round_trip(ssm):
    name = unique() + "/password"
    assert ssm.put_parameter(Name=name, Value="hunter2-secret", Type="SecureString")["Version"] == 1
    p = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]
    assert p["Type"] == "SecureString"
    assert p["Value"] == "hunter2-secret"
    hidden = ssm.get_parameter(Name=name)["Parameter"]["Value"]
    assert hidden != "hunter2-secret" and "hunter2" not in hidden


def test_overwrite_increments_version(ssm):
    name = unique() + "/counter"
    assert ssm.put_parameter(Name=name, Value="one", Type="String")["Version"] == 1
    assert ssm.put_parameter(Name=name, Value="two", Type="String", Overwrite=True)["Version"] == 2
    # Type may be left out when updating; the parameter keeps its type.
    assert ssm.put_parameter(Name=name, Value="three", Overwrite=True)["Version"] == 3
    p = ssm.get_parameter(Name=name)["Parameter"]
    assert (p["Value"], p["Version"], p["Type"]) == ("three", 3, "String")


def test_put_existing_without_overwrite(ssm):
    name = unique() + "/exists"
    ssm.put_parameter(Name=name, Value="first", Type="String")
    expect_error("ParameterAlreadyExists", ssm.put_parameter, Name=name, Value="second", Type="String")
    expect_error("ParameterAlreadyExists", ssm.put_parameter, Name=name, Value="second", Type="String",
                 Overwrite=False)
    p = ssm.get_parameter(Name=name)["Parameter"]
    assert (p["Value"], p["Version"]) == ("first", 1)


def test_type_required_on_create(ssm):
    name = unique() + "/untyped"
    expect_error("ValidationException", ssm.put_parameter, Name=name, Value="x")
    expect_error("ParameterNotFound", ssm.get_parameter, Name=name)


def test_unknown_type(raw_ssm):
    name = unique() + "/badtype"
    expect_error("ValidationException", raw_ssm.put_parameter, Name=name, Value="x", Type="Number")
    expect_error("ParameterNotFound", raw_ssm.get_parameter, Name=name)


def test_tags_and_overwrite_together(ssm):
    name = unique() + "/tagged"
    tags = [{"Key": "env", "Value": "prod"}]
    # Refused for a new parameter and for an existing one.
    expect_error("ValidationException", ssm.put_parameter, Name=name, Value="x", Type="String",
                 Overwrite=True, Tags=tags)
    expect_error("ParameterNotFound", ssm.get_parameter, Name=name)
    ssm.put_parameter(Name=name, Value="x", Type="String", Tags=tags)
    expect_error("ValidationException", ssm.put_parameter, Name=name, Value="y", Type="String",
                 Overwrite=True, Tags=tags)
    assert ssm.get_parameter(Name=name)["Parameter"]["Version"] == 1


def test_description_and_allowed_pattern(ssm):
    name = unique() + "/port"
    ssm.put_parameter(Name=name, Value="5432", Type="String", Description="database port",
                      AllowedPattern=r"^\d+$")
    meta = ssm.describe_parameters(
        ParameterFilters=[{"Key": "Name", "Option": "Equals", "Values": [name]}])["Parameters"]
    assert len(meta) == 1
    assert meta[0]["Description"] == "database port"
    assert meta[0]["AllowedPattern"] == r"^\d+$"
    expect_error("ParameterPatternMismatchException", ssm.put_parameter, Name=name, Value="not-a-port",
                 Type="String", Overwrite=True, AllowedPattern=r"^\d+$")
    assert ssm.get_parameter(Name=name)["Parameter"]["Value"] == "5432"
    assert ssm.put_parameter(Name=name, Value="6543", Type="String", Overwrite=True,
                             AllowedPattern=r"^\d+$")["Version"] == 2

    other = unique() + "/mismatch"
    expect_error("ParameterPatternMismatchException", ssm.put_parameter, Name=other, Value="abc",
                 Type="String", AllowedPattern=r"^[0-9]+$")
    expect_error("ParameterNotFound", ssm.get_parameter, Name=other)


def test_invalid_allowed_pattern(ssm):
    name = unique() + "/badregex"
    for pattern in ("([a-z", "*abc", "a{2,1}"):
        expect_error("InvalidAllowedPatternException", ssm.put_parameter, Name=name, Value="abc",
                     Type="String", AllowedPattern=pattern)
    expect_error("ParameterNotFound", ssm.get_parameter, Name=name)


def test_data_types(ssm, raw_ssm):
    root = unique()
    ssm.put_parameter(Name=root + "/default", Value="v", Type="String")
    assert ssm.get_parameter(Name=root + "/default")["Parameter"]["DataType"] == "text"
    ssm.put_parameter(Name=root + "/text", Value="v", Type="String", DataType="text")
    assert ssm.get_parameter(Name=root + "/text")["Parameter"]["DataType"] == "text"

    ami = "ami-0123456789abcdef0"
    ssm.put_parameter(Name=root + "/ami", Value=ami, Type="String", DataType="aws:ec2:image")
    p = ssm.get_parameter(Name=root + "/ami")["Parameter"]
    assert (p["Value"], p["DataType"]) == (ami, "aws:ec2:image")
    for bad in ("not-an-ami", "ami-XYZ!", "i-0123456789abcdef0"):
        expect_error("ValidationException", ssm.put_parameter, Name=root + "/badami", Value=bad, Type="String",
                     DataType="aws:ec2:image")
    expect_error("ParameterNotFound", ssm.get_parameter, Name=root + "/badami")

    for unknown in ("json", "Text", "aws:ec2:instance"):
        expect_error("ValidationException", raw_ssm.put_parameter, Name=root + "/unknown", Value="v",
                     Type="String", DataType=unknown)
    expect_error("ParameterNotFound", ssm.get_parameter, Name=root + "/unknown")


def test_standard_tier_size_limit(ssm):
    root = unique()
    out = ssm.put_parameter(Name=root + "/max", Value="s" * 4096, Type="String", Tier="Standard")
    assert out["Tier"] == "Standard"
    assert ssm.get_parameter(Name=root + "/max")["Parameter"]["Value"] == "s" * 4096
    expect_error("ValidationException", ssm.put_parameter, Name=root + "/over", Value="s" * 4097,
                 Type="String", Tier="Standard")
    # No tier given: the default tier is Standard, with the same limit.
    expect_error("ValidationException", ssm.put_parameter, Name=root + "/over", Value="s" * 4097, Type="String")
    expect_error("ParameterNotFound", ssm.get_parameter, Name=root + "/over")


def test_advanced_tier_size_limit(ssm):
    root = unique()
    out = ssm.put_parameter(Name=root + "/max", Value="a" * 8192, Type="String", Tier="Advanced")
    assert out["Tier"] == "Advanced"
    assert ssm.get_parameter(Name=root + "/max")["Parameter"]["Value"] == "a" * 8192
    expect_error("ValidationException", ssm.put_parameter, Name=root + "/over", Value="a" * 8193,
                 Type="String", Tier="Advanced")
    expect_error("ParameterNotFound", ssm.get_parameter, Name=root + "/over")


def test_intelligent_tiering(ssm):
    root = unique()
    big = ssm.put_parameter(Name=root + "/big", Value="i" * 5000, Type="String", Tier="Intelligent-Tiering")
    assert big["Tier"] == "Advanced"
    small = ssm.put_parameter(Name=root + "/small", Value="small", Type="String", Tier="Intelligent-Tiering")
    assert small["Tier"] == "Standard"
    meta = ssm.describe_parameters(
        ParameterFilters=[{"Key": "Name", "Option": "Equals", "Values": [root + "/big", root + "/small"]}]
    )["Parameters"]
    assert {m["Name"]: m["Tier"] for m in meta} == {root + "/big": "Advanced", root + "/small": "Standard"}


def test_advanced_cannot_be_downgraded(ssm):
    name = unique() + "/advanced"
    ssm.put_parameter(Name=name, Value="v1", Type="String", Tier="Advanced")
    expect_error("ValidationException", ssm.put_parameter, Name=name, Value="v2", Type="String",
                 Overwrite=True, Tier="Standard")
    p = ssm.get_parameter(Name=name)["Parameter"]
    assert (p["Value"], p["Version"]) == ("v1", 1)
    # Upgrading is allowed.
    up = unique() + "/standard"
    ssm.put_parameter(Name=up, Value="v1", Type="String", Tier="Standard")
    assert ssm.put_parameter(Name=up, Value="v2", Type="String", Overwrite=True, Tier="Advanced")["Tier"] == "Advanced"


@pytest.mark.parametrize("name", ["aws-reserved", "AWSreserved", "Aws.x", "ssm-reserved", "SSM_x", "sSmx",
                                  "/ssm/x", "/SSM/y/z", "/Ssmthing"])
def test_reserved_prefixes(ssm, name):
    expect_error("ValidationException", ssm.put_parameter, Name=name, Value="v", Type="String")


@pytest.mark.parametrize("name", ["/aws/x", "/AWS/x/y", "/awsome"])
def test_reserved_aws_path(ssm, name):
    # AWS answers ValidationException for reserved prefixes; for names under its own /aws/ namespace it
    # answers AccessDeniedException ("No access to reserved parameter name"). Either refuses the name.
    assert error_code(ssm.put_parameter, Name=name, Value="v", Type="String") in (
        "ValidationException", "AccessDeniedException")


def test_aws_and_ssm_allowed_below_the_root(ssm):
    root = unique()
    for name in (root + "/aws/x", root + "/ssm", root + "/awsome"):
        assert ssm.put_parameter(Name=name, Value="v", Type="String")["Version"] == 1


def test_hierarchy_levels(ssm):
    root = unique()  # one level
    fifteen = root + "".join(f"/l{i}" for i in range(2, 16))
    assert fifteen.count("/") == 15
    assert ssm.put_parameter(Name=fifteen, Value="deep", Type="String")["Version"] == 1
    assert ssm.get_parameter(Name=fifteen)["Parameter"]["Value"] == "deep"
    sixteen = fifteen + "/l16"
    expect_error("HierarchyLevelLimitExceededException", ssm.put_parameter, Name=sixteen, Value="x", Type="String")
    expect_error("ParameterNotFound", ssm.get_parameter, Name=sixteen)


@pytest.mark.parametrize("suffix", ["/with space", "/dollar$", "/star*", "/hash#", "/colon:x", "/quote'",
                                    "/caf\u00e9", "/tab\tx", "/comma,x"])
def test_invalid_name_characters(ssm, suffix):
    name = unique() + suffix
    expect_error("ValidationException", ssm.put_parameter, Name=name, Value="v", Type="String")


def test_slash_name_must_be_fully_qualified(ssm):
    name = unique().lstrip("/") + "/child"
    expect_error("ValidationException", ssm.put_parameter, Name=name, Value="v", Type="String")


def test_valid_name_characters(ssm):
    name = unique() + "/Az09_.-x/MiXeD.case-name_1"
    ssm.put_parameter(Name=name, Value="ok", Type="String")
    assert ssm.get_parameter(Name=name)["Parameter"]["Value"] == "ok"
    # Names are case sensitive.
    expect_error("ParameterNotFound", ssm.get_parameter, Name=name.lower())


def test_surrounding_spaces_are_removed(ssm):
    name = unique() + "/trimmed"
    ssm.put_parameter(Name=f"  {name}  ", Value="v", Type="String")
    assert ssm.get_parameter(Name=name)["Parameter"]["Name"] == name


def test_name_length_counts_the_arn(ssm):
    prefix = f"arn:aws:ssm:eu-west-1:{ACCOUNT}:parameter/"
    stem = "n" + unique().lstrip("/")
    longest = stem + "x" * (1011 - len(prefix) - len(stem))
    assert len(prefix + longest) == 1011
    ssm.put_parameter(Name=longest, Value="v", Type="String")
    p = ssm.get_parameter(Name=longest)["Parameter"]
    assert p["ARN"] == prefix + longest and len(p["ARN"]) == 1011
    expect_error("ValidationException", ssm.put_parameter, Name=longest + "y", Value="v", Type="String")
    far = unique() + "/" + "z" * 1100
    expect_error("ValidationException", ssm.put_parameter, Name=far, Value="v", Type="String")


def test_arn_in_output(ssm, ssm_us):
    nested = unique() + "/a/b"
    ssm.put_parameter(Name=nested, Value="v", Type="String")
    assert ssm.get_parameter(Name=nested)["Parameter"]["ARN"] == (
        f"arn:aws:ssm:eu-west-1:{ACCOUNT}:parameter/{nested.lstrip('/')}")
    flat = "flat-" + unique().lstrip("/")
    ssm_us.put_parameter(Name=flat, Value="v", Type="String")
    assert ssm_us.get_parameter(Name=flat)["Parameter"]["ARN"] == f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/{flat}"
    # GetParameter also takes the ARN.
    by_arn = ssm.get_parameter(Name=param_arn(nested))["Parameter"]
    assert (by_arn["Name"], by_arn["Value"]) == (nested, "v")


def test_get_parameter_selectors(ssm):
    name = unique() + "/selected"
    for i in (1, 2, 3):
        ssm.put_parameter(Name=name, Value=f"value-{i}", Type="String", Overwrite=i > 1)
    ssm.label_parameter_version(Name=name, ParameterVersion=2, Labels=["stable"])

    p = ssm.get_parameter(Name=f"{name}:1")["Parameter"]
    assert (p["Name"], p["Value"], p["Version"], p["Selector"]) == (name, "value-1", 1, ":1")
    p = ssm.get_parameter(Name=f"{name}:stable")["Parameter"]
    assert (p["Name"], p["Value"], p["Version"], p["Selector"]) == (name, "value-2", 2, ":stable")
    p = ssm.get_parameter(Name=name)["Parameter"]
    assert (p["Value"], p["Version"]) == ("value-3", 3)
    assert "Selector" not in p

    expect_error("ParameterVersionNotFound", ssm.get_parameter, Name=f"{name}:4")
    expect_error("ParameterVersionNotFound", ssm.get_parameter, Name=f"{name}:99")
    expect_error("ParameterVersionNotFound", ssm.get_parameter, Name=f"{name}:nolabel")
    expect_error("ParameterNotFound", ssm.get_parameter, Name=unique() + "/missing")
    expect_error("ParameterNotFound", ssm.get_parameter, Name=unique() + "/missing:1")


def test_get_parameters(ssm):
    root = unique()
    ssm.put_parameter(Name=root + "/b", Value="b1", Type="String")
    ssm.put_parameter(Name=root + "/b", Value="b2", Type="String", Overwrite=True)
    ssm.put_parameter(Name=root + "/a", Value="a1", Type="StringList")
    ssm.label_parameter_version(Name=root + "/b", ParameterVersion=1, Labels=["old"])

    out = ssm.get_parameters(Names=[root + "/b", root + "/missing", root + "/a", root + "/b:99", root + "/b:nolabel"])
    assert sorted((p["Name"], p["Value"]) for p in out["Parameters"]) == [(root + "/a", "a1"), (root + "/b", "b2")]
    assert sorted(out["InvalidParameters"]) == sorted([root + "/missing", root + "/b:99", root + "/b:nolabel"])
    for p in out["Parameters"]:
        assert p["ARN"] == param_arn(p["Name"])
        assert p["Version"] in (1, 2)

    out = ssm.get_parameters(Names=[root + "/b:1", root + "/b:old"])
    assert out["InvalidParameters"] == []
    got = sorted((p["Selector"], p["Value"], p["Version"], p["Name"]) for p in out["Parameters"])
    assert got == [(":1", "b1", 1, root + "/b"), (":old", "b1", 1, root + "/b")]

    out = ssm.get_parameters(Names=[root + "/nothing"])
    assert out["Parameters"] == [] and out["InvalidParameters"] == [root + "/nothing"]


def test_get_parameters_alphabetical_order(ssm):
    # The model: "The results for GetParameters requests are listed in alphabetical order in query responses."
    root = unique()
    for n in ("charlie", "alpha", "bravo"):
        ssm.put_parameter(Name=f"{root}/{n}", Value=n, Type="String")
    out = ssm.get_parameters(Names=[f"{root}/bravo", f"{root}/charlie", f"{root}/alpha"])
    assert [p["Name"] for p in out["Parameters"]] == [f"{root}/alpha", f"{root}/bravo", f"{root}/charlie"]


def test_get_parameters_at_most_ten(ssm, raw_ssm):
    root = unique()
    names = [f"{root}/p{i:02d}" for i in range(11)]
    for n in names:
        ssm.put_parameter(Name=n, Value=n[-3:], Type="String")
    out = ssm.get_parameters(Names=names[:10])
    assert len(out["Parameters"]) == 10 and out["InvalidParameters"] == []
    expect_error("ValidationException", raw_ssm.get_parameters, Names=names)


def test_delete_parameter(ssm):
    name = unique() + "/doomed"
    ssm.put_parameter(Name=name, Value="v1", Type="String")
    ssm.put_parameter(Name=name, Value="v2", Type="String", Overwrite=True)
    ssm.delete_parameter(Name=name)
    expect_error("ParameterNotFound", ssm.get_parameter, Name=name)
    expect_error("ParameterNotFound", ssm.get_parameter_history, Name=name)
    expect_error("ParameterNotFound", ssm.delete_parameter, Name=name)
    # A parameter created again under the name starts over at version 1.
    assert ssm.put_parameter(Name=name, Value="again", Type="String")["Version"] == 1
    assert [h["Value"] for h in ssm.get_parameter_history(Name=name)["Parameters"]] == ["again"]


def test_delete_missing_parameter(ssm):
    expect_error("ParameterNotFound", ssm.delete_parameter, Name=unique() + "/never")


def test_delete_parameters(ssm):
    root = unique()
    for n in ("x", "y"):
        ssm.put_parameter(Name=f"{root}/{n}", Value=n, Type="String")
    out = ssm.delete_parameters(Names=[f"{root}/x", f"{root}/missing", f"{root}/y"])
    assert sorted(out["DeletedParameters"]) == [f"{root}/x", f"{root}/y"]
    assert out["InvalidParameters"] == [f"{root}/missing"]
    out = ssm.get_parameters(Names=[f"{root}/x", f"{root}/y"])
    assert out["Parameters"] == []
    out = ssm.delete_parameters(Names=[f"{root}/x"])
    assert out["DeletedParameters"] == [] and out["InvalidParameters"] == [f"{root}/x"]


def test_regional_isolation(ssm, ssm_us):
    name = unique() + "/regional"
    ssm.put_parameter(Name=name, Value="eu", Type="String")
    ssm.put_parameter(Name=name, Value="eu2", Type="String", Overwrite=True)
    expect_error("ParameterNotFound", ssm_us.get_parameter, Name=name)
    assert ssm_us.get_parameters(Names=[name])["InvalidParameters"] == [name]
    assert ssm_us.put_parameter(Name=name, Value="us", Type="String")["Version"] == 1
    assert ssm_us.get_parameter(Name=name)["Parameter"]["ARN"] == param_arn(name, "us-east-1")
    assert ssm.get_parameter(Name=name)["Parameter"]["Value"] == "eu2"
    ssm_us.delete_parameter(Name=name)
    assert ssm.get_parameter(Name=name)["Parameter"]["Value"] == "eu2"


def test_version_limit_drops_oldest_unlabelled(ssm):
    name = unique() + "/churn"
    for i in range(1, 102):
        ssm.put_parameter(Name=name, Value=f"v{i}", Type="String", Overwrite=i > 1)
    versions = []
    token = None
    while True:
        out = ssm.get_parameter_history(Name=name, MaxResults=50, **({"NextToken": token} if token else {}))
        versions += [h["Version"] for h in out["Parameters"]]
        token = out.get("NextToken")
        if not token:
            break
    assert sorted(versions) == list(range(2, 102))
    expect_error("ParameterVersionNotFound", ssm.get_parameter, Name=f"{name}:1")
    assert ssm.get_parameter(Name=f"{name}:2")["Parameter"]["Value"] == "v2"
    assert ssm.get_parameter(Name=name)["Parameter"]["Version"] == 101


def test_version_limit_with_labelled_oldest(ssm):
    name = unique() + "/pinned"
    ssm.put_parameter(Name=name, Value="v1", Type="String")
    ssm.label_parameter_version(Name=name, ParameterVersion=1, Labels=["pinned"])
    for i in range(2, 101):
        ssm.put_parameter(Name=name, Value=f"v{i}", Type="String", Overwrite=True)
    expect_error("ParameterMaxVersionLimitExceeded", ssm.put_parameter, Name=name, Value="v101", Type="String",
                 Overwrite=True)
    assert ssm.get_parameter(Name=name)["Parameter"]["Version"] == 100
    assert ssm.get_parameter(Name=f"{name}:pinned")["Parameter"]["Version"] == 1
    # Moving the label off the oldest version lets the next put through, which drops version 1.
    ssm.label_parameter_version(Name=name, ParameterVersion=50, Labels=["pinned"])
    assert ssm.put_parameter(Name=name, Value="v101", Type="String", Overwrite=True)["Version"] == 101
    expect_error("ParameterVersionNotFound", ssm.get_parameter, Name=f"{name}:1")
    assert ssm.get_parameter(Name=f"{name}:pinned")["Parameter"]["Version"] == 50


@pytest.mark.parametrize("operation, kwargs", [
    ("send_command", {"DocumentName": "AWS-RunShellScript", "InstanceIds": ["i-0123456789abcdef0"],
                      "Parameters": {"commands": ["true"]}}),
    ("create_document", {"Content": '{"schemaVersion": "2.2", "mainSteps": []}', "Name": "m2sec-doc"}),
    ("describe_instance_information", {}),
])
def test_unimplemented_operation(ssm, operation, kwargs):
    expect_error("UnsupportedOperationException", getattr(ssm, operation), **kwargs)
