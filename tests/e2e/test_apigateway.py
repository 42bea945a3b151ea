"""API Gateway's control plane over restJson1, with the aws CLI and boto3: REST APIs, resources,
methods, integrations, deployments, stages, custom domain names with ACM certificates, base path
mappings and tags, and API Gateway's own errors."""
import pytest

from conftest import Server, expect_error
from test_acm import Ctx, request_and_validate


@pytest.fixture(scope="module")
def ctx():
    s = Server().start()
    c = Ctx(s)
    c.apigw = s.client("apigateway")
    yield c
    s.stop()
    s.cleanup()


def proxy_api(apigw, name="fan-api", uri="http://127.0.0.1:3000/{proxy}"):
    api = apigw.create_rest_api(name=name, endpointConfiguration={"types": ["REGIONAL"]})
    root = apigw.get_resources(restApiId=api["id"])["items"][0]["id"]
    res = apigw.create_resource(restApiId=api["id"], parentId=root, pathPart="{proxy+}")
    apigw.put_method(restApiId=api["id"], resourceId=res["id"], httpMethod="ANY", authorizationType="NONE",
                     requestParameters={"method.request.path.proxy": True})
    apigw.put_integration(restApiId=api["id"], resourceId=res["id"], httpMethod="ANY", type="HTTP_PROXY",
                          integrationHttpMethod="ANY", uri=uri,
                          requestParameters={"integration.request.path.proxy": "method.request.path.proxy"})
    return api, res


def test_the_guides_commands_with_the_cli(ctx):
    s = ctx.server
    api = s.aws("apigateway", "create-rest-api", "--name", "fan-api", "--endpoint-configuration", "types=REGIONAL",
                "--query", "id", "--output", "text")
    root = s.aws("apigateway", "get-resources", "--rest-api-id", api, "--query", "items[0].id", "--output", "text")
    res = s.aws("apigateway", "create-resource", "--rest-api-id", api, "--parent-id", root, "--path-part", "{proxy+}",
                "--query", "id", "--output", "text")
    method = s.aws("apigateway", "put-method", "--rest-api-id", api, "--resource-id", res, "--http-method", "ANY",
                   "--authorization-type", "NONE", "--request-parameters", "method.request.path.proxy=true")
    assert method["httpMethod"] == "ANY" and method["requestParameters"] == {"method.request.path.proxy": True}
    integration = s.aws("apigateway", "put-integration", "--rest-api-id", api, "--resource-id", res,
                        "--http-method", "ANY", "--type", "HTTP_PROXY", "--integration-http-method", "ANY",
                        "--uri", "http://127.0.0.1:3000/{proxy}",
                        "--request-parameters", "integration.request.path.proxy=method.request.path.proxy")
    assert integration["type"] == "HTTP_PROXY" and integration["timeoutInMillis"] == 29000
    deployment = s.aws("apigateway", "create-deployment", "--rest-api-id", api, "--stage-name", "prod")
    stage = s.aws("apigateway", "get-stage", "--rest-api-id", api, "--stage-name", "prod")
    assert stage["deploymentId"] == deployment["id"]
    listed = s.aws("apigateway", "get-resources", "--rest-api-id", api)["items"]
    assert sorted(r["path"] for r in listed) == ["/", "/{proxy+}"]
    # Without embed, methods are listed by name only, as API Gateway.
    assert [r for r in listed if r["path"] == "/{proxy+}"][0]["resourceMethods"] == {"ANY": {}}


def test_rest_apis_and_errors(ctx):
    a = ctx.apigw
    api = a.create_rest_api(name="errors", description="d", tags={"team": "gates"})
    assert api["endpointConfiguration"]["types"] == ["EDGE"]
    assert api["apiKeySource"] == "HEADER" and api["tags"] == {"team": "gates"}
    assert a.get_rest_api(restApiId=api["id"])["name"] == "errors"
    assert api["id"] in [x["id"] for x in a.get_rest_apis(limit=500)["items"]]
    updated = a.update_rest_api(restApiId=api["id"], patchOperations=[
        {"op": "replace", "path": "/name", "value": "renamed"},
        {"op": "replace", "path": "/description", "value": "new"}])
    assert updated["name"] == "renamed" and updated["description"] == "new"
    message = expect_error("BadRequestException", a.update_rest_api, restApiId=api["id"],
                           patchOperations=[{"op": "replace", "path": "/nope", "value": "x"}])
    assert "/nope" in message
    message = expect_error("NotFoundException", a.get_rest_api, status=404, restApiId="nosuchapi0")
    assert message == "Invalid API identifier specified"
    root = a.get_resources(restApiId=api["id"])["items"][0]["id"]
    a.create_resource(restApiId=api["id"], parentId=root, pathPart="tickets")
    expect_error("ConflictException", a.create_resource, restApiId=api["id"], parentId=root, pathPart="tickets")
    a.create_resource(restApiId=api["id"], parentId=root, pathPart="{id}")
    expect_error("BadRequestException", a.create_resource, restApiId=api["id"], parentId=root, pathPart="{other}")
    expect_error("BadRequestException", a.create_deployment, restApiId=api["id"], stageName="prod")
    expect_error("UnsupportedOperationException", a.get_api_keys)
    a.delete_rest_api(restApiId=api["id"])
    expect_error("NotFoundException", a.get_rest_api, restApiId=api["id"])


def test_resources_methods_integrations_and_responses(ctx):
    a = ctx.apigw
    api = a.create_rest_api(name="tree", endpointConfiguration={"types": ["REGIONAL"]})
    root = a.get_resources(restApiId=api["id"])["items"][0]["id"]
    tickets = a.create_resource(restApiId=api["id"], parentId=root, pathPart="tickets")
    verify = a.create_resource(restApiId=api["id"], parentId=tickets["id"], pathPart="verify")
    assert verify["path"] == "/tickets/verify"
    a.put_method(restApiId=api["id"], resourceId=verify["id"], httpMethod="POST", authorizationType="AWS_IAM")
    expect_error("ConflictException", a.put_method, restApiId=api["id"], resourceId=verify["id"],
                 httpMethod="POST", authorizationType="NONE")
    a.put_integration(restApiId=api["id"], resourceId=verify["id"], httpMethod="POST", type="MOCK",
                      requestTemplates={"application/json": '{"statusCode": 200}'})
    a.put_method_response(restApiId=api["id"], resourceId=verify["id"], httpMethod="POST", statusCode="200")
    a.put_integration_response(restApiId=api["id"], resourceId=verify["id"], httpMethod="POST", statusCode="200",
                               responseTemplates={"application/json": '{"valid": true}'})
    method = a.get_method(restApiId=api["id"], resourceId=verify["id"], httpMethod="POST")
    assert method["authorizationType"] == "AWS_IAM"
    assert method["methodIntegration"]["integrationResponses"]["200"]["responseTemplates"] == {
        "application/json": '{"valid": true}'}
    a.update_method(restApiId=api["id"], resourceId=verify["id"], httpMethod="POST",
                    patchOperations=[{"op": "replace", "path": "/authorizationType", "value": "NONE"}])
    a.update_integration(restApiId=api["id"], resourceId=verify["id"], httpMethod="POST",
                         patchOperations=[{"op": "replace", "path": "/timeoutInMillis", "value": "5000"}])
    assert a.get_integration(restApiId=api["id"], resourceId=verify["id"],
                             httpMethod="POST")["timeoutInMillis"] == 5000
    expect_error("BadRequestException", a.put_integration, restApiId=api["id"], resourceId=verify["id"],
                 httpMethod="POST", type="AWS_PROXY", integrationHttpMethod="POST",
                 uri="arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/x/invocations")
    # Moving a resource moves its children's paths.
    a.update_resource(restApiId=api["id"], resourceId=tickets["id"],
                      patchOperations=[{"op": "replace", "path": "/pathPart", "value": "passes"}])
    assert a.get_resource(restApiId=api["id"], resourceId=verify["id"])["path"] == "/passes/verify"
    a.delete_resource(restApiId=api["id"], resourceId=tickets["id"])
    expect_error("NotFoundException", a.get_resource, restApiId=api["id"], resourceId=verify["id"])


def test_deployments_and_stages(ctx):
    a = ctx.apigw
    api, _ = proxy_api(a, name="stages")
    d1 = a.create_deployment(restApiId=api["id"], stageName="prod", variables={"color": "blue"})
    stage = a.get_stage(restApiId=api["id"], stageName="prod")
    assert stage["deploymentId"] == d1["id"] and stage["variables"] == {"color": "blue"}
    d2 = a.create_deployment(restApiId=api["id"], description="second")
    assert {d["id"] for d in a.get_deployments(restApiId=api["id"])["items"]} == {d1["id"], d2["id"]}
    a.create_stage(restApiId=api["id"], stageName="dev", deploymentId=d2["id"], tags={"env": "dev"})
    expect_error("ConflictException", a.create_stage, restApiId=api["id"], stageName="dev", deploymentId=d2["id"])
    assert {x["stageName"] for x in a.get_stages(restApiId=api["id"])["item"]} == {"prod", "dev"}
    expect_error("BadRequestException", a.delete_deployment, restApiId=api["id"], deploymentId=d1["id"])
    moved = a.update_stage(restApiId=api["id"], stageName="prod", patchOperations=[
        {"op": "replace", "path": "/deploymentId", "value": d2["id"]},
        {"op": "replace", "path": "/variables/size", "value": "xl"},
        {"op": "remove", "path": "/variables/color"}])
    assert moved["deploymentId"] == d2["id"] and moved["variables"] == {"size": "xl"}
    a.delete_deployment(restApiId=api["id"], deploymentId=d1["id"])
    arn = f"arn:aws:apigateway:eu-west-1::/restapis/{api['id']}/stages/dev"
    a.tag_resource(resourceArn=arn, tags={"owner": "ops"})
    assert a.get_tags(resourceArn=arn)["tags"] == {"env": "dev", "owner": "ops"}
    a.untag_resource(resourceArn=arn, tagKeys=["env"])
    assert a.get_tags(resourceArn=arn)["tags"] == {"owner": "ops"}
    a.delete_stage(restApiId=api["id"], stageName="dev")
    expect_error("NotFoundException", a.get_stage, restApiId=api["id"], stageName="dev")


def test_domain_names_take_issued_certificates_and_mark_them_in_use(ctx):
    a = ctx.apigw
    pending = ctx.acm.request_certificate(DomainName="pending.fanops.com", ValidationMethod="DNS")["CertificateArn"]
    message = expect_error("BadRequestException", a.create_domain_name, domainName="pending.fanops.com",
                           regionalCertificateArn=pending, endpointConfiguration={"types": ["REGIONAL"]})
    assert "not yet issued" in message
    arn, _ = request_and_validate(ctx, DomainName="api.fanops.com")
    other, _ = request_and_validate(ctx, acm=ctx.acm_us, DomainName="api.fanops.com")
    expect_error("BadRequestException", a.create_domain_name, domainName="api.fanops.com",
                 regionalCertificateArn=other, endpointConfiguration={"types": ["REGIONAL"]})
    expect_error("BadRequestException", a.create_domain_name, domainName="www.fanops.com",
                 regionalCertificateArn=arn, endpointConfiguration={"types": ["REGIONAL"]})
    d = a.create_domain_name(domainName="api.fanops.com", regionalCertificateArn=arn,
                             endpointConfiguration={"types": ["REGIONAL"]}, securityPolicy="TLS_1_2")
    assert d["regionalDomainName"].startswith("d-")
    assert d["regionalDomainName"].endswith(".execute-api.eu-west-1.amazonaws.com")
    assert d["regionalHostedZoneId"] == "ZLY8HYME6SFDD"
    assert d["domainNameStatus"] == "AVAILABLE" and d["securityPolicy"] == "TLS_1_2"
    expect_error("ConflictException", a.create_domain_name, domainName="api.fanops.com",
                 regionalCertificateArn=arn, endpointConfiguration={"types": ["REGIONAL"]})
    cert = ctx.acm.describe_certificate(CertificateArn=arn)["Certificate"]
    assert cert["InUseBy"] == [d["domainNameArn"]] and cert["RenewalEligibility"] == "ELIGIBLE"
    expect_error("ResourceInUseException", ctx.acm.delete_certificate, CertificateArn=arn)

    api, _ = proxy_api(a, name="mapped")
    a.create_deployment(restApiId=api["id"], stageName="prod")
    m = a.create_base_path_mapping(domainName="api.fanops.com", restApiId=api["id"], stage="prod")
    assert m == {"basePath": "(none)", "restApiId": api["id"], "stage": "prod",
                 "ResponseMetadata": m["ResponseMetadata"]}
    a.create_base_path_mapping(domainName="api.fanops.com", basePath="v1", restApiId=api["id"], stage="prod")
    expect_error("ConflictException", a.create_base_path_mapping, domainName="api.fanops.com", basePath="v1",
                 restApiId=api["id"], stage="prod")
    expect_error("BadRequestException", a.create_base_path_mapping, domainName="api.fanops.com", basePath="v2",
                 restApiId=api["id"], stage="nostage")
    assert {x["basePath"] for x in a.get_base_path_mappings(domainName="api.fanops.com")["items"]} == {"(none)", "v1"}
    assert a.get_base_path_mapping(domainName="api.fanops.com", basePath="(none)")["stage"] == "prod"
    a.update_base_path_mapping(domainName="api.fanops.com", basePath="v1",
                               patchOperations=[{"op": "replace", "path": "/basePath", "value": "v2"}])
    a.delete_base_path_mapping(domainName="api.fanops.com", basePath="v2")
    expect_error("NotFoundException", a.get_base_path_mapping, domainName="api.fanops.com", basePath="v2")

    # A new certificate moves InUseBy from the old one to the new one.
    renewed, _ = request_and_validate(ctx, DomainName="*.fanops.com")
    a.update_domain_name(domainName="api.fanops.com", patchOperations=[
        {"op": "replace", "path": "/regionalCertificateArn", "value": renewed}])
    assert ctx.acm.describe_certificate(CertificateArn=arn)["Certificate"]["InUseBy"] == []
    assert ctx.acm.describe_certificate(CertificateArn=renewed)["Certificate"]["InUseBy"] == [d["domainNameArn"]]
    a.delete_domain_name(domainName="api.fanops.com")
    assert ctx.acm.describe_certificate(CertificateArn=renewed)["Certificate"]["InUseBy"] == []
    ctx.acm.delete_certificate(CertificateArn=arn)
    expect_error("NotFoundException", a.get_domain_name, domainName="api.fanops.com")
