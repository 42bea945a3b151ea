//! REST APIs: CreateRestApi, GetRestApi, GetRestApis, UpdateRestApi, DeleteRestApi.

use m2sec_proto::RequestContext;
use serde_json::Value;

use crate::error::{bad, Result};
use crate::patch;
use crate::records::*;
use crate::service::*;
use crate::shapes::*;

/// The endpoint types API Gateway knows; a REST API or domain name has exactly one.
pub(crate) fn endpoint_configuration(
    given: Option<EndpointConfiguration>,
) -> Result<EndpointConfiguration> {
    let mut config = given.unwrap_or_default();
    if config.types.is_empty() {
        config.types = vec!["EDGE".into()];
    }
    if config.types.len() != 1 {
        return Err(bad("Cannot create an api with multiple Endpoint Types."));
    }
    if !matches!(config.types[0].as_str(), "EDGE" | "REGIONAL" | "PRIVATE") {
        return Err(bad(format!(
            "Invalid endpoint type: {}; must be one of EDGE, REGIONAL, PRIVATE",
            config.types[0]
        )));
    }
    if config.ip_address_type.is_none() {
        config.ip_address_type = Some("ipv4".into());
    }
    Ok(config)
}

impl ApiGateway {
    /// CreateRestApi: the API with its root resource `/`.
    pub(crate) async fn create_rest_api(
        &self,
        ctx: &RequestContext,
        input: CreateRestApiRequest,
    ) -> Result<Value> {
        if input.clone_from.is_some() {
            return Err(bad("cloneFrom is not supported by m2sec"));
        }
        if let Some(source) = &input.api_key_source {
            if !matches!(source.as_str(), "HEADER" | "AUTHORIZER") {
                return Err(bad(format!("Invalid apiKeySource: {source}")));
            }
        }
        let id = new_id(10);
        let root = new_id(10);
        let api = RestApi {
            id: id.clone(),
            name: input.name,
            description: input.description,
            created_date: now_s(),
            version: input.version,
            binary_media_types: input.binary_media_types,
            minimum_compression_size: input.minimum_compression_size,
            api_key_source: input.api_key_source.unwrap_or_else(|| "HEADER".into()),
            endpoint_configuration: endpoint_configuration(input.endpoint_configuration)?,
            policy: input.policy,
            tags: input.tags,
            disable_execute_api_endpoint: input.disable_execute_api_endpoint,
            root_resource_id: root.clone(),
        };
        let resources = [(
            root.clone(),
            Resource {
                id: root,
                parent_id: None,
                path_part: None,
                path: "/".into(),
                resource_methods: Default::default(),
            },
        )]
        .into_iter()
        .collect();
        let doc = ApiDocument {
            api,
            resources,
            deployments: Default::default(),
            snapshots: Default::default(),
            stages: Default::default(),
        };
        let _guard = self.writes.lock().await;
        self.save(ctx, API_KIND, &id, &doc, true).await?;
        Ok(to_value(&doc.api))
    }

    /// GetRestApi.
    pub(crate) async fn get_rest_api(
        &self,
        ctx: &RequestContext,
        input: RestApiId,
    ) -> Result<Value> {
        Ok(to_value(&self.api(ctx, &input.rest_api_id).await?.api))
    }

    /// GetRestApis.
    pub(crate) async fn get_rest_apis(
        &self,
        ctx: &RequestContext,
        input: Listing<Nothing>,
    ) -> Result<Value> {
        let apis: Vec<(String, ApiDocument)> =
            self.list(&ctx.account, &ctx.region, API_KIND).await?;
        let items = apis.into_iter().map(|(id, d)| (id, d.api)).collect();
        Ok(to_value(&page(items, &input.paging)?))
    }

    /// UpdateRestApi: name, description, version, apiKeySource, policy, binary media types,
    /// minimumCompressionSize, disableExecuteApiEndpoint, the endpoint type.
    pub(crate) async fn update_rest_api(
        &self,
        ctx: &RequestContext,
        input: Patch<RestApiId>,
    ) -> Result<Value> {
        let api = self
            .modify_api(ctx, &input.target.rest_api_id, |doc| {
                let api = &mut doc.api;
                patch::apply(&input.patch_operations, |c| {
                    match c.path.as_str() {
                        "/name" => api.name = c.value()?.to_string(),
                        "/description" => api.description = c.value.map(str::to_string),
                        "/version" => api.version = c.value.map(str::to_string),
                        "/policy" => api.policy = c.value.map(str::to_string),
                        "/apiKeySource" => api.api_key_source = c.value()?.to_string(),
                        "/minimumCompressionSize" => {
                            api.minimum_compression_size = match c.value {
                                None | Some("") => None,
                                Some(v) => Some(v.parse().map_err(|_| {
                                    bad(format!("Invalid minimumCompressionSize: {v}"))
                                })?),
                            }
                        }
                        "/disableExecuteApiEndpoint" => {
                            api.disable_execute_api_endpoint = c.flag()?
                        }
                        "/endpointConfiguration/types/0" => {
                            api.endpoint_configuration.types = vec![c.value()?.to_string()];
                            endpoint_configuration(Some(api.endpoint_configuration.clone()))?;
                        }
                        p if p.starts_with("/binaryMediaTypes/") => {
                            let media = p["/binaryMediaTypes/".len()..].to_string();
                            let list = api.binary_media_types.get_or_insert_with(Vec::new);
                            list.retain(|m| *m != media);
                            if c.op != "remove" {
                                list.push(media);
                            }
                        }
                        _ => {
                            return Err(c.unsupported(&[
                                "/name",
                                "/description",
                                "/version",
                                "/policy",
                                "/apiKeySource",
                                "/minimumCompressionSize",
                                "/disableExecuteApiEndpoint",
                                "/endpointConfiguration/types/0",
                                "/binaryMediaTypes/<type>",
                            ]))
                        }
                    }
                    Ok(())
                })?;
                Ok(doc.api.clone())
            })
            .await?;
        Ok(to_value(&api))
    }

    /// DeleteRestApi.
    pub(crate) async fn delete_rest_api(
        &self,
        ctx: &RequestContext,
        input: RestApiId,
    ) -> Result<Value> {
        let _guard = self.writes.lock().await;
        self.api(ctx, &input.rest_api_id).await?;
        self.remove(ctx, API_KIND, &input.rest_api_id).await?;
        Ok(to_value(&Empty {}))
    }
}
