//! In-process calls to the services ([`Services`]): the deployer and the secure-gates handlers call
//! KMS, SSM, DynamoDB, IAM, API Gateway, Route53 and ACM through here, as the caller their context
//! names. A call takes the path of an authenticated HTTP request from the point where the caller is
//! known: the service model's checks, the service's own authorization, the trail. Only the wire is
//! skipped.

use std::sync::Arc;

use async_trait::async_trait;
use m2sec_proto::services::Services;
use m2sec_proto::{json, rest_json, rest_xml, AwsError, RequestContext};
use serde_json::Value;

use super::AppState;

pub struct InProcess {
    pub state: Arc<AppState>,
}

#[async_trait]
impl Services for InProcess {
    async fn call(
        &self,
        ctx: &RequestContext,
        service: &str,
        operation: &str,
        input: Value,
    ) -> Result<Value, AwsError> {
        let state = &self.state;
        let mut ctx = ctx.clone();
        ctx.operation = operation.to_string();
        ctx.request_id = m2sec_proto::random_uuid();
        ctx.resources = Default::default();
        if let Some((_, json_service)) = state
            .json_services
            .values()
            .find(|(signing, _)| signing == service)
        {
            if !json_service.model().has_operation(operation) {
                return Err(AwsError::unknown_operation(operation));
            }
            // The value is checked as a body would be, without the round trip through JSON text.
            let input = json_service
                .model()
                .validate(operation, &input)
                .map(|()| input)
                .map_err(|e| json::own_validation_error(json_service.as_ref(), operation, e));
            let output =
                super::run_json_input(state, json_service.as_ref(), &ctx, operation, input).await?;
            if output.is_empty() {
                return Ok(Value::Object(Default::default()));
            }
            return serde_json::from_slice(&output)
                .map_err(|e| AwsError::serialization(e.to_string()));
        }
        let (query_service, checked) = if let Some(s) = state.rest_services.get(service) {
            let model = s.model();
            if !model.has_operation(operation) {
                return Err(AwsError::unknown_operation(operation));
            }
            let checked = if model.metadata.protocol.as_deref() == Some("rest-json") {
                rest_json::validate(model, operation, &input)
            } else {
                rest_xml::validate(model, operation, &input)
            };
            (s.clone(), checked)
        } else if let Some(s) = state.query_services.get(service) {
            if !s.model().has_operation(operation) {
                return Err(AwsError::unknown_operation(operation));
            }
            (s.clone(), Ok(()))
        } else {
            return Err(AwsError::new(
                "UnknownService",
                400,
                format!("m2sec has no service {service}"),
            ));
        };
        super::call_recorded(
            state,
            query_service.as_ref(),
            &ctx,
            operation,
            input,
            checked,
        )
        .await
    }
}
