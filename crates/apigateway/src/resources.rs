//! Resources and what hangs on them: GetResources, GetResource, CreateResource, UpdateResource,
//! DeleteResource; Put/Get/Update/Delete Method, Integration; Put/Get/Delete MethodResponse and
//! IntegrationResponse.

use m2sec_proto::RequestContext;
use serde_json::Value;

use crate::error::{bad, not_found, ApiGatewayError, Result};
use crate::patch;
use crate::records::*;
use crate::service::*;
use crate::shapes::*;

const METHODS: &[&str] = &[
    "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "ANY",
];

/// A resource as GetResources answers it: with `embed=methods` each method whole, else only the
/// methods' names (as API Gateway).
fn view(resource: &Resource, embed_methods: bool) -> Value {
    let mut v = to_value(resource);
    if !embed_methods {
        if let Some(methods) = v.get_mut("resourceMethods").and_then(Value::as_object_mut) {
            for m in methods.values_mut() {
                *m = Value::Object(Default::default());
            }
        }
    }
    v
}

fn check_path_part(part: &str) -> Result<()> {
    let ok = !part.is_empty()
        && part
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-:{}+".contains(c))
        && (!part.contains(['{', '}', '+'])
            || (part.starts_with('{')
                && part.ends_with('}')
                && part.len() > 2
                && !part[1..part.len() - 1].contains(['{', '}'])
                && (!part.contains('+') || part.ends_with("+}"))));
    if ok {
        Ok(())
    } else {
        Err(bad(format!(
            "Resource's path part only allow a-zA-Z0-9._- and curly braces at the beginning and the end and an optional plus sign before the closing brace: {part}"
        )))
    }
}

fn resource_mut<'a>(doc: &'a mut ApiDocument, id: &str) -> Result<&'a mut Resource> {
    doc.resources
        .get_mut(id)
        .ok_or_else(|| not_found("Resource identifier"))
}

fn method_mut<'a>(doc: &'a mut ApiDocument, id: &str, method: &str) -> Result<&'a mut Method> {
    resource_mut(doc, id)?
        .resource_methods
        .get_mut(&method.to_ascii_uppercase())
        .ok_or_else(|| not_found("Method identifier"))
}

fn integration_mut<'a>(
    doc: &'a mut ApiDocument,
    id: &str,
    method: &str,
) -> Result<&'a mut Integration> {
    method_mut(doc, id, method)?
        .method_integration
        .as_mut()
        .ok_or_else(|| not_found("Integration identifier"))
}

/// Siblings may not share a name, and only one of them may be a variable (`{id}`, `{proxy+}`);
/// nothing may sit under a greedy `{proxy+}`.
fn check_siblings(doc: &ApiDocument, parent: &str, part: &str, except: Option<&str>) -> Result<()> {
    let parent_res = doc
        .resources
        .get(parent)
        .ok_or_else(|| not_found("Resource identifier"))?;
    if parent_res
        .path_part
        .as_deref()
        .is_some_and(|p| p.ends_with("+}"))
    {
        return Err(bad(format!(
            "Cannot create a child of a resource with a greedy path variable: {}",
            parent_res.path
        )));
    }
    for r in doc.resources.values() {
        if r.parent_id.as_deref() != Some(parent) || Some(r.id.as_str()) == except {
            continue;
        }
        let other = r.path_part.as_deref().unwrap_or("");
        if other == part {
            return Err(ApiGatewayError::Conflict(format!(
                "Another resource with the same parent already has this name: {part}"
            )));
        }
        if other.starts_with('{') && part.starts_with('{') {
            return Err(bad(format!(
                "A sibling ({other}) of this resource already has a variable path part -- only one is allowed"
            )));
        }
    }
    Ok(())
}

/// Recomputes the paths of `id` and everything under it.
fn repath(doc: &mut ApiDocument, id: &str) {
    let parent_path = doc
        .resources
        .get(id)
        .and_then(|r| r.parent_id.clone())
        .and_then(|p| doc.resources.get(&p).map(|r| r.path.clone()));
    if let (Some(parent_path), Some(r)) = (parent_path, doc.resources.get_mut(id)) {
        let part = r.path_part.clone().unwrap_or_default();
        r.path = if parent_path == "/" {
            format!("/{part}")
        } else {
            format!("{parent_path}/{part}")
        };
    }
    let children: Vec<String> = doc
        .resources
        .values()
        .filter(|r| r.parent_id.as_deref() == Some(id))
        .map(|r| r.id.clone())
        .collect();
    for c in children {
        repath(doc, &c);
    }
}

impl ApiGateway {
    /// GetResources, by path.
    pub(crate) async fn get_resources(
        &self,
        ctx: &RequestContext,
        input: GetResourcesRequest,
    ) -> Result<Value> {
        let doc = self.api(ctx, &input.rest_api_id).await?;
        let embed = input.embed.iter().any(|e| e == "methods");
        let mut items: Vec<(String, Value)> = doc
            .resources
            .values()
            .map(|r| (r.path.clone(), view(r, embed)))
            .collect();
        items.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(to_value(&page(items, &input.paging)?))
    }

    /// GetResource.
    pub(crate) async fn get_resource(
        &self,
        ctx: &RequestContext,
        input: GetResourceRequest,
    ) -> Result<Value> {
        let doc = self.api(ctx, &input.rest_api_id).await?;
        let r = doc
            .resources
            .get(&input.resource_id)
            .ok_or_else(|| not_found("Resource identifier"))?;
        Ok(view(r, input.embed.iter().any(|e| e == "methods")))
    }

    /// CreateResource.
    pub(crate) async fn create_resource(
        &self,
        ctx: &RequestContext,
        input: CreateResourceRequest,
    ) -> Result<Value> {
        check_path_part(&input.path_part)?;
        let r = self
            .modify_api(ctx, &input.rest_api_id, |doc| {
                check_siblings(doc, &input.parent_id, &input.path_part, None)?;
                let id = new_id(6);
                doc.resources.insert(
                    id.clone(),
                    Resource {
                        id: id.clone(),
                        parent_id: Some(input.parent_id.clone()),
                        path_part: Some(input.path_part.clone()),
                        path: String::new(),
                        resource_methods: Default::default(),
                    },
                );
                repath(doc, &id);
                Ok(doc.resources[&id].clone())
            })
            .await?;
        Ok(view(&r, true))
    }

    /// UpdateResource: `/pathPart` and `/parentId`.
    pub(crate) async fn update_resource(
        &self,
        ctx: &RequestContext,
        input: Patch<ResourceId>,
    ) -> Result<Value> {
        let id = input.target.resource_id.clone();
        let r = self
            .modify_api(ctx, &input.target.rest_api_id, |doc| {
                let current = resource_mut(doc, &id)?.clone();
                let Some(mut parent) = current.parent_id.clone() else {
                    return Err(bad("The root resource cannot be changed"));
                };
                let mut part = current.path_part.clone().unwrap_or_default();
                patch::apply(&input.patch_operations, |c| {
                    match c.path.as_str() {
                        "/pathPart" => part = c.value()?.to_string(),
                        "/parentId" => parent = c.value()?.to_string(),
                        _ => return Err(c.unsupported(&["/pathPart", "/parentId"])),
                    }
                    Ok(())
                })?;
                check_path_part(&part)?;
                check_siblings(doc, &parent, &part, Some(&id))?;
                let r = resource_mut(doc, &id)?;
                r.path_part = Some(part);
                r.parent_id = Some(parent);
                repath(doc, &id);
                Ok(doc.resources[&id].clone())
            })
            .await?;
        Ok(view(&r, true))
    }

    /// DeleteResource, with everything under it.
    pub(crate) async fn delete_resource(
        &self,
        ctx: &RequestContext,
        input: ResourceId,
    ) -> Result<Value> {
        self.modify_api(ctx, &input.rest_api_id, |doc| {
            if doc.api.root_resource_id == input.resource_id {
                return Err(bad("Cannot delete root resource"));
            }
            resource_mut(doc, &input.resource_id)?;
            let mut doomed = vec![input.resource_id.clone()];
            let mut i = 0;
            while i < doomed.len() {
                let id = doomed[i].clone();
                doomed.extend(
                    doc.resources
                        .values()
                        .filter(|r| r.parent_id.as_deref() == Some(id.as_str()))
                        .map(|r| r.id.clone()),
                );
                i += 1;
            }
            for id in doomed {
                doc.resources.remove(&id);
            }
            Ok(())
        })
        .await?;
        Ok(to_value(&Empty {}))
    }

    /// PutMethod.
    pub(crate) async fn put_method(
        &self,
        ctx: &RequestContext,
        input: PutMethodRequest,
    ) -> Result<Value> {
        let method = input.http_method.to_ascii_uppercase();
        if !METHODS.contains(&method.as_str()) {
            return Err(bad(format!(
                "Invalid HttpMethod specified. Valid options are {}",
                METHODS.join(",")
            )));
        }
        match input.authorization_type.as_str() {
            "NONE" | "AWS_IAM" => {}
            "CUSTOM" | "COGNITO_USER_POOLS" => {
                return Err(bad(format!(
                    "Authorization type {} is not supported by m2sec: use NONE or AWS_IAM",
                    input.authorization_type
                )))
            }
            other => {
                return Err(bad(format!(
                    "Invalid authorization type specified: {other}. Valid values are NONE, AWS_IAM, CUSTOM and COGNITO_USER_POOLS"
                )))
            }
        }
        for name in input.request_parameters.keys() {
            if !name.starts_with("method.request.") {
                return Err(bad(format!(
                    "Invalid mapping expression specified: Validation Result: warnings : [], errors : [Invalid method request parameter name specified: {name}]"
                )));
            }
        }
        let m = self
            .modify_api(ctx, &input.rest_api_id, |doc| {
                let r = resource_mut(doc, &input.resource_id)?;
                if r.resource_methods.contains_key(&method) {
                    return Err(ApiGatewayError::Conflict(
                        "Method already exists for this resource".into(),
                    ));
                }
                let m = Method {
                    http_method: method.clone(),
                    authorization_type: input.authorization_type.clone(),
                    authorizer_id: input.authorizer_id.clone(),
                    api_key_required: input.api_key_required,
                    request_validator_id: input.request_validator_id.clone(),
                    operation_name: input.operation_name.clone(),
                    request_parameters: input.request_parameters.clone(),
                    request_models: input.request_models.clone(),
                    method_responses: Default::default(),
                    method_integration: None,
                    authorization_scopes: input.authorization_scopes.clone(),
                };
                r.resource_methods.insert(method.clone(), m.clone());
                Ok(m)
            })
            .await?;
        Ok(to_value(&m))
    }

    /// GetMethod.
    pub(crate) async fn get_method(&self, ctx: &RequestContext, input: MethodId) -> Result<Value> {
        let mut doc = self.api(ctx, &input.rest_api_id).await?;
        Ok(to_value(method_mut(
            &mut doc,
            &input.resource_id,
            &input.http_method,
        )?))
    }

    /// UpdateMethod: authorization type, API key requirement, operation name, request parameters.
    pub(crate) async fn update_method(
        &self,
        ctx: &RequestContext,
        input: Patch<MethodId>,
    ) -> Result<Value> {
        let t = &input.target;
        let m = self
            .modify_api(ctx, &t.rest_api_id, |doc| {
                let m = method_mut(doc, &t.resource_id, &t.http_method)?;
                patch::apply(&input.patch_operations, |c| {
                    match c.path.as_str() {
                        "/authorizationType" => match c.value()? {
                            v @ ("NONE" | "AWS_IAM") => m.authorization_type = v.to_string(),
                            v => {
                                return Err(bad(format!(
                                    "Authorization type {v} is not supported by m2sec: use NONE or AWS_IAM"
                                )))
                            }
                        },
                        "/apiKeyRequired" => m.api_key_required = c.flag()?,
                        "/operationName" => m.operation_name = c.value.map(str::to_string),
                        p if p.starts_with("/requestParameters/") => {
                            let name = p["/requestParameters/".len()..].to_string();
                            if c.op == "remove" {
                                m.request_parameters.remove(&name);
                            } else {
                                let required = c.value.unwrap_or("false") == "true";
                                m.request_parameters.insert(name, required);
                            }
                        }
                        _ => {
                            return Err(c.unsupported(&[
                                "/authorizationType",
                                "/apiKeyRequired",
                                "/operationName",
                                "/requestParameters/<name>",
                            ]))
                        }
                    }
                    Ok(())
                })?;
                Ok(m.clone())
            })
            .await?;
        Ok(to_value(&m))
    }

    /// DeleteMethod.
    pub(crate) async fn delete_method(
        &self,
        ctx: &RequestContext,
        input: MethodId,
    ) -> Result<Value> {
        self.modify_api(ctx, &input.rest_api_id, |doc| {
            let r = resource_mut(doc, &input.resource_id)?;
            r.resource_methods
                .remove(&input.http_method.to_ascii_uppercase())
                .ok_or_else(|| not_found("Method identifier"))?;
            Ok(())
        })
        .await?;
        Ok(to_value(&Empty {}))
    }

    /// PutIntegration: HTTP, HTTP_PROXY, MOCK, and AWS_PROXY to a function (m2sec's built-in
    /// handlers stand for Lambda; AWS integrations to other services are refused).
    pub(crate) async fn put_integration(
        &self,
        ctx: &RequestContext,
        input: PutIntegrationRequest,
    ) -> Result<Value> {
        match input.kind.as_str() {
            "HTTP" | "HTTP_PROXY" => {
                let uri = input.uri.as_deref().unwrap_or("");
                if !(uri.starts_with("http://") || uri.starts_with("https://")) {
                    return Err(bad(format!(
                        "Invalid HTTP endpoint specified for URI: '{uri}'"
                    )));
                }
                if input.integration_http_method.is_none() {
                    return Err(bad("Enumeration value for HttpMethod must be non-empty"));
                }
            }
            "MOCK" => {}
            "AWS_PROXY" => {
                let uri = input.uri.as_deref().unwrap_or("");
                if crate::runtime::lambda::function_of_uri(uri).is_none() {
                    return Err(bad(format!(
                        "Invalid ARN specified in the request: m2sec runs AWS_PROXY integrations to Lambda functions, arn:aws:apigateway:REGION:lambda:path/2015-03-31/functions/FUNCTION_ARN/invocations, not '{uri}'"
                    )));
                }
                if input.integration_http_method.is_none() {
                    return Err(bad("Enumeration value for HttpMethod must be non-empty"));
                }
            }
            "AWS" => {
                return Err(bad(
                    "Integrations of type AWS are not supported by m2sec: use AWS_PROXY (to a function), HTTP, HTTP_PROXY or MOCK",
                ))
            }
            other => {
                return Err(bad(format!(
                    "Invalid integration type specified: {other}. Valid values are HTTP, HTTP_PROXY, AWS, AWS_PROXY and MOCK"
                )))
            }
        }
        let timeout = input.timeout_in_millis.unwrap_or(DEFAULT_TIMEOUT_MS);
        if !(50..=DEFAULT_TIMEOUT_MS).contains(&timeout) {
            return Err(bad(format!(
                "Timeout should be between 50 ms and {DEFAULT_TIMEOUT_MS} ms"
            )));
        }
        for (target, source) in &input.request_parameters {
            if !target.starts_with("integration.request.") {
                return Err(bad(format!(
                    "Invalid mapping expression specified: Validation Result: warnings : [], errors : [Invalid mapping expression specified: {target}]"
                )));
            }
            let _ = source;
        }
        let i = self
            .modify_api(ctx, &input.rest_api_id, |doc| {
                let resource = input.resource_id.clone();
                let m = method_mut(doc, &input.resource_id, &input.http_method)?;
                let i = Integration {
                    kind: input.kind.clone(),
                    http_method: input.integration_http_method.clone(),
                    uri: input.uri.clone(),
                    connection_type: Some(
                        input
                            .connection_type
                            .clone()
                            .unwrap_or_else(|| "INTERNET".into()),
                    ),
                    connection_id: input.connection_id.clone(),
                    credentials: input.credentials.clone(),
                    request_parameters: input.request_parameters.clone(),
                    request_templates: input.request_templates.clone(),
                    passthrough_behavior: Some(
                        input
                            .passthrough_behavior
                            .clone()
                            .unwrap_or_else(|| "WHEN_NO_MATCH".into()),
                    ),
                    content_handling: input.content_handling.clone(),
                    timeout_in_millis: timeout,
                    cache_namespace: input.cache_namespace.clone().unwrap_or(resource),
                    cache_key_parameters: input.cache_key_parameters.clone(),
                    integration_responses: Default::default(),
                };
                m.method_integration = Some(i.clone());
                Ok(i)
            })
            .await?;
        Ok(to_value(&i))
    }

    /// GetIntegration.
    pub(crate) async fn get_integration(
        &self,
        ctx: &RequestContext,
        input: MethodId,
    ) -> Result<Value> {
        let mut doc = self.api(ctx, &input.rest_api_id).await?;
        Ok(to_value(integration_mut(
            &mut doc,
            &input.resource_id,
            &input.http_method,
        )?))
    }

    /// UpdateIntegration: uri, httpMethod, timeout, passthrough behavior, request parameters and
    /// templates.
    pub(crate) async fn update_integration(
        &self,
        ctx: &RequestContext,
        input: Patch<MethodId>,
    ) -> Result<Value> {
        let t = &input.target;
        let i = self
            .modify_api(ctx, &t.rest_api_id, |doc| {
                let i = integration_mut(doc, &t.resource_id, &t.http_method)?;
                patch::apply(&input.patch_operations, |c| {
                    match c.path.as_str() {
                        "/uri" => i.uri = Some(c.value()?.to_string()),
                        "/httpMethod" => i.http_method = Some(c.value()?.to_string()),
                        "/timeoutInMillis" => {
                            let v: i64 = c
                                .value()?
                                .parse()
                                .map_err(|_| bad("Invalid timeoutInMillis"))?;
                            if !(50..=DEFAULT_TIMEOUT_MS).contains(&v) {
                                return Err(bad(format!(
                                    "Timeout should be between 50 ms and {DEFAULT_TIMEOUT_MS} ms"
                                )));
                            }
                            i.timeout_in_millis = v;
                        }
                        "/passthroughBehavior" => {
                            i.passthrough_behavior = Some(c.value()?.to_string())
                        }
                        p if p.starts_with("/requestParameters/") => {
                            patch::map_member(&mut i.request_parameters, "/requestParameters/", c)?;
                        }
                        p if p.starts_with("/requestTemplates/") => {
                            patch::map_member(&mut i.request_templates, "/requestTemplates/", c)?;
                        }
                        _ => {
                            return Err(c.unsupported(&[
                                "/uri",
                                "/httpMethod",
                                "/timeoutInMillis",
                                "/passthroughBehavior",
                                "/requestParameters/<name>",
                                "/requestTemplates/<type>",
                            ]))
                        }
                    }
                    Ok(())
                })?;
                Ok(i.clone())
            })
            .await?;
        Ok(to_value(&i))
    }

    /// DeleteIntegration.
    pub(crate) async fn delete_integration(
        &self,
        ctx: &RequestContext,
        input: MethodId,
    ) -> Result<Value> {
        self.modify_api(ctx, &input.rest_api_id, |doc| {
            let m = method_mut(doc, &input.resource_id, &input.http_method)?;
            m.method_integration
                .take()
                .ok_or_else(|| not_found("Integration identifier"))?;
            Ok(())
        })
        .await?;
        Ok(to_value(&Empty {}))
    }

    /// PutMethodResponse.
    pub(crate) async fn put_method_response(
        &self,
        ctx: &RequestContext,
        input: PutMethodResponseRequest,
    ) -> Result<Value> {
        let id = &input.id;
        let r = self
            .modify_api(ctx, &id.rest_api_id, |doc| {
                let m = method_mut(doc, &id.resource_id, &id.http_method)?;
                let r = MethodResponse {
                    status_code: id.status_code.clone(),
                    response_parameters: input.response_parameters.clone(),
                    response_models: input.response_models.clone(),
                };
                m.method_responses.insert(id.status_code.clone(), r.clone());
                Ok(r)
            })
            .await?;
        Ok(to_value(&r))
    }

    /// GetMethodResponse.
    pub(crate) async fn get_method_response(
        &self,
        ctx: &RequestContext,
        input: ResponseId,
    ) -> Result<Value> {
        let mut doc = self.api(ctx, &input.rest_api_id).await?;
        let m = method_mut(&mut doc, &input.resource_id, &input.http_method)?;
        let r = m
            .method_responses
            .get(&input.status_code)
            .ok_or_else(|| not_found("Response status code"))?;
        Ok(to_value(r))
    }

    /// DeleteMethodResponse.
    pub(crate) async fn delete_method_response(
        &self,
        ctx: &RequestContext,
        input: ResponseId,
    ) -> Result<Value> {
        self.modify_api(ctx, &input.rest_api_id, |doc| {
            let m = method_mut(doc, &input.resource_id, &input.http_method)?;
            m.method_responses
                .remove(&input.status_code)
                .ok_or_else(|| not_found("Response status code"))?;
            Ok(())
        })
        .await?;
        Ok(to_value(&Empty {}))
    }

    /// PutIntegrationResponse.
    pub(crate) async fn put_integration_response(
        &self,
        ctx: &RequestContext,
        input: PutIntegrationResponseRequest,
    ) -> Result<Value> {
        let id = &input.id;
        let r = self
            .modify_api(ctx, &id.rest_api_id, |doc| {
                let i = integration_mut(doc, &id.resource_id, &id.http_method)?;
                let r = IntegrationResponse {
                    status_code: id.status_code.clone(),
                    selection_pattern: input.selection_pattern.clone(),
                    response_parameters: input.response_parameters.clone(),
                    response_templates: input.response_templates.clone(),
                    content_handling: input.content_handling.clone(),
                };
                i.integration_responses
                    .insert(id.status_code.clone(), r.clone());
                Ok(r)
            })
            .await?;
        Ok(to_value(&r))
    }

    /// GetIntegrationResponse.
    pub(crate) async fn get_integration_response(
        &self,
        ctx: &RequestContext,
        input: ResponseId,
    ) -> Result<Value> {
        let mut doc = self.api(ctx, &input.rest_api_id).await?;
        let i = integration_mut(&mut doc, &input.resource_id, &input.http_method)?;
        let r = i
            .integration_responses
            .get(&input.status_code)
            .ok_or_else(|| not_found("Response status code"))?;
        Ok(to_value(r))
    }

    /// DeleteIntegrationResponse.
    pub(crate) async fn delete_integration_response(
        &self,
        ctx: &RequestContext,
        input: ResponseId,
    ) -> Result<Value> {
        self.modify_api(ctx, &input.rest_api_id, |doc| {
            let i = integration_mut(doc, &input.resource_id, &input.http_method)?;
            i.integration_responses
                .remove(&input.status_code)
                .ok_or_else(|| not_found("Response status code"))?;
            Ok(())
        })
        .await?;
        Ok(to_value(&Empty {}))
    }
}
