"""SSM parameter labels (LabelParameterVersion, UnlabelParameterVersion) and tags
(AddTagsToResource, ListTagsForResource, RemoveTagsFromResource) through boto3."""
import pytest

from ssm_support import error_code, expect_error, raw_ssm, ssm, unique  # noqa: F401  (fixtures)


def put_versions(ssm, name, count):
    for i in range(1, count + 1):
        ssm.put_parameter(Name=name, Value=f"v{i}", Type="String", Overwrite=i > 1)


def labels_by_version(ssm, name):
    return {h["Version"]: sorted(h.get("Labels", [])) for h in ssm.get_parameter_history(Name=name)["Parameters"]}


def test_label_defaults_to_latest(ssm):
    name = unique() + "/labels"
    put_versions(ssm, name, 2)
    out = ssm.label_parameter_version(Name=name, Labels=["prod"])
    assert out["ParameterVersion"] == 2
    assert out["InvalidLabels"] == []
    assert labels_by_version(ssm, name) == {1: [], 2: ["prod"]}
    assert ssm.get_parameter(Name=f"{name}:prod")["Parameter"]["Version"] == 2
    # A later put does not carry the label along.
    ssm.put_parameter(Name=name, Value="v3", Type="String", Overwrite=True)
    assert labels_by_version(ssm, name) == {1: [], 2: ["prod"], 3: []}


def test_label_specific_version_and_move(ssm):
    name = unique() + "/move"
    put_versions(ssm, name, 3)
    out = ssm.label_parameter_version(Name=name, ParameterVersion=1, Labels=["stable", "blue"])
    assert out["ParameterVersion"] == 1
    assert labels_by_version(ssm, name) == {1: ["blue", "stable"], 2: [], 3: []}
    # Labelling another version with "stable" moves it there; "blue" stays.
    ssm.label_parameter_version(Name=name, ParameterVersion=3, Labels=["stable"])
    assert labels_by_version(ssm, name) == {1: ["blue"], 2: [], 3: ["stable"]}
    assert ssm.get_parameter(Name=f"{name}:stable")["Parameter"]["Value"] == "v3"
    assert ssm.get_parameter(Name=f"{name}:blue")["Parameter"]["Value"] == "v1"
    # Labelling the same version again changes nothing.
    ssm.label_parameter_version(Name=name, ParameterVersion=3, Labels=["stable"])
    assert labels_by_version(ssm, name) == {1: ["blue"], 2: [], 3: ["stable"]}


def test_invalid_labels(ssm):
    name = unique() + "/badlabels"
    put_versions(ssm, name, 1)
    bad = ["1starts-with-digit", "aws-reserved", "AWSupper", "ssm-reserved", "Ssm.x", "has space", "slash/y",
           "colon:z"]
    out = ssm.label_parameter_version(Name=name, Labels=["good_label-1.0"] + bad)
    assert sorted(out["InvalidLabels"]) == sorted(bad)
    assert labels_by_version(ssm, name) == {1: ["good_label-1.0"]}


def test_label_too_long(raw_ssm):
    name = unique() + "/longlabel"
    raw_ssm.put_parameter(Name=name, Value="v", Type="String")
    assert raw_ssm.label_parameter_version(Name=name, Labels=["l" * 100])["InvalidLabels"] == []
    expect_error("ValidationException", raw_ssm.label_parameter_version, Name=name, Labels=["l" * 101])


def test_label_limit_per_version(ssm, raw_ssm):
    name = unique() + "/many-labels"
    put_versions(ssm, name, 2)
    ten = [f"label{i}" for i in range(10)]
    assert ssm.label_parameter_version(Name=name, ParameterVersion=1, Labels=ten)["InvalidLabels"] == []
    # Re-applying labels the version already has is no addition.
    ssm.label_parameter_version(Name=name, ParameterVersion=1, Labels=ten[:3])
    expect_error("ParameterVersionLabelLimitExceeded", ssm.label_parameter_version, Name=name, ParameterVersion=1,
                 Labels=["eleventh"])
    assert labels_by_version(ssm, name)[1] == sorted(ten)
    # The other version still takes labels, and moving one off version 1 makes room.
    ssm.label_parameter_version(Name=name, ParameterVersion=2, Labels=["label0"])
    ssm.label_parameter_version(Name=name, ParameterVersion=1, Labels=["eleventh"])
    assert len(labels_by_version(ssm, name)[1]) == 10
    # More than ten labels in one request is refused by the model's own limit.
    expect_error("ValidationException", raw_ssm.label_parameter_version, Name=name, ParameterVersion=2,
                 Labels=[f"x{i}" for i in range(11)])


def test_label_errors(ssm):
    name = unique() + "/label-errors"
    put_versions(ssm, name, 2)
    expect_error("ParameterNotFound", ssm.label_parameter_version, Name=unique() + "/missing", Labels=["x"])
    expect_error("ParameterVersionNotFound", ssm.label_parameter_version, Name=name, ParameterVersion=3,
                 Labels=["x"])


def test_unlabel(ssm):
    name = unique() + "/unlabel"
    put_versions(ssm, name, 2)
    ssm.label_parameter_version(Name=name, ParameterVersion=1, Labels=["a", "b", "c"])
    ssm.label_parameter_version(Name=name, ParameterVersion=2, Labels=["d"])
    out = ssm.unlabel_parameter_version(Name=name, ParameterVersion=1, Labels=["a", "c", "d", "zzz"])
    assert sorted(out["RemovedLabels"]) == ["a", "c"]
    assert sorted(out["InvalidLabels"]) == ["d", "zzz"]
    assert labels_by_version(ssm, name) == {1: ["b"], 2: ["d"]}
    expect_error("ParameterVersionNotFound", ssm.get_parameter, Name=f"{name}:a")
    expect_error("ParameterNotFound", ssm.unlabel_parameter_version, Name=unique() + "/missing",
                 ParameterVersion=1, Labels=["a"])
    expect_error("ParameterVersionNotFound", ssm.unlabel_parameter_version, Name=name, ParameterVersion=7,
                 Labels=["b"])


def tags_of(ssm, name):
    tags = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=name)["TagList"]
    return {t["Key"]: t["Value"] for t in tags}


def test_tags_round_trip(ssm):
    name = unique() + "/tagged"
    ssm.put_parameter(Name=name, Value="v", Type="String",
                      Tags=[{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "web"}])
    assert tags_of(ssm, name) == {"env": "prod", "team": "web"}
    ssm.add_tags_to_resource(ResourceType="Parameter", ResourceId=name,
                             Tags=[{"Key": "env", "Value": "staging"}, {"Key": "cost", "Value": ""}])
    assert tags_of(ssm, name) == {"env": "staging", "team": "web", "cost": ""}
    ssm.remove_tags_from_resource(ResourceType="Parameter", ResourceId=name, TagKeys=["team", "not-there"])
    assert tags_of(ssm, name) == {"env": "staging", "cost": ""}
    # Tags survive new versions.
    ssm.put_parameter(Name=name, Value="v2", Type="String", Overwrite=True)
    assert tags_of(ssm, name) == {"env": "staging", "cost": ""}
    # They go with the parameter.
    ssm.delete_parameter(Name=name)
    ssm.put_parameter(Name=name, Value="v", Type="String")
    assert tags_of(ssm, name) == {}


def test_tags_on_untagged_parameter(ssm):
    name = unique() + "/untagged"
    ssm.put_parameter(Name=name, Value="v", Type="String")
    assert ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=name)["TagList"] == []


def test_tag_limit(ssm):
    name = unique() + "/fifty"
    ssm.put_parameter(Name=name, Value="v", Type="String")
    ssm.add_tags_to_resource(ResourceType="Parameter", ResourceId=name,
                             Tags=[{"Key": f"k{i}", "Value": str(i)} for i in range(50)])
    assert len(tags_of(ssm, name)) == 50
    expect_error("TooManyTagsError", ssm.add_tags_to_resource, ResourceType="Parameter", ResourceId=name,
                 Tags=[{"Key": "k50", "Value": "x"}])
    # Updating an existing key is not a new tag.
    ssm.add_tags_to_resource(ResourceType="Parameter", ResourceId=name, Tags=[{"Key": "k0", "Value": "new"}])
    assert tags_of(ssm, name)["k0"] == "new"


def test_tags_unknown_parameter(ssm):
    missing = unique() + "/missing"
    expect_error("InvalidResourceId", ssm.list_tags_for_resource, ResourceType="Parameter", ResourceId=missing)
    expect_error("InvalidResourceId", ssm.add_tags_to_resource, ResourceType="Parameter", ResourceId=missing,
                 Tags=[{"Key": "k", "Value": "v"}])
    expect_error("InvalidResourceId", ssm.remove_tags_from_resource, ResourceType="Parameter", ResourceId=missing,
                 TagKeys=["k"])


@pytest.mark.parametrize("resource_type", ["Document", "MaintenanceWindow", "ManagedInstance"])
def test_tags_other_resource_types(ssm, resource_type):
    name = unique() + "/typed"
    ssm.put_parameter(Name=name, Value="v", Type="String")
    # m2sec keeps no resources of these types. AWS answers InvalidResourceType for a type it cannot tag
    # and InvalidResourceId for a resource of a taggable type that does not exist; either is right here,
    # as long as the parameter's own tags are left alone.
    for call, extra in ((ssm.list_tags_for_resource, {}),
                        (ssm.add_tags_to_resource, {"Tags": [{"Key": "k", "Value": "v"}]}),
                        (ssm.remove_tags_from_resource, {"TagKeys": ["k"]})):
        assert error_code(call, ResourceType=resource_type, ResourceId=name, **extra) in (
            "InvalidResourceType", "InvalidResourceId")
    assert tags_of(ssm, name) == {}


def test_tags_unknown_resource_type(raw_ssm):
    name = unique() + "/typed"
    raw_ssm.put_parameter(Name=name, Value="v", Type="String")
    assert error_code(raw_ssm.list_tags_for_resource, ResourceType="Bucket", ResourceId=name) in (
        "InvalidResourceType", "ValidationException")
