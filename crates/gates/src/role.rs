//! Calls to m2sec's services as a function's IAM role: each call carries the context of an
//! assumed-role session named after the function, as Lambda's own credentials would, so the role's
//! policies decide and the trail names the function.

use m2sec_proto::services::Services;
use m2sec_proto::{arn, random_uuid, AwsError, Caller, RequestContext};
use serde_json::{json, Map, Value};
use zeroize::Zeroizing;

use crate::Function;

/// The calls of one invocation of `function`.
pub struct AsRole<'a> {
    services: &'a dyn Services,
    function: &'a Function,
}

/// A DynamoDB item in the wire's attribute-value form (`{"userId": {"S": "steward7"}}`).
pub type Item = Map<String, Value>;

impl<'a> AsRole<'a> {
    pub fn new(services: &'a dyn Services, function: &'a Function) -> Self {
        AsRole { services, function }
    }

    /// The ARN of the role the calls are made as.
    pub fn role_arn(&self) -> &str {
        &self.function.role_arn
    }

    /// The role's name: the last part of its ARN's path (`role/path/NAME`).
    fn role_name(&self) -> &str {
        let resource = arn::Arn::parse(&self.function.role_arn)
            .map(|a| a.resource)
            .unwrap_or(&self.function.role_arn);
        resource.rsplit('/').next().unwrap_or(resource)
    }

    /// The context of a call of `operation` by the function's session.
    pub fn context(&self, operation: &str) -> RequestContext {
        let role_name = self.role_name().to_string();
        let session_name = self.function.name.clone();
        RequestContext {
            account: self.function.account.clone(),
            region: self.function.region.clone(),
            principal_arn: arn::sts(
                &self.function.account,
                &format!("assumed-role/{role_name}/{session_name}"),
            ),
            // The session's credentials never leave m2sec, so there is no key id to name.
            access_key_id: String::new(),
            request_id: random_uuid(),
            caller: Caller::Role {
                role_arn: self.function.role_arn.clone(),
                role_name,
                session_name,
            },
            operation: operation.to_string(),
            source_ip: None,
            user_agent: Some(format!("m2sec-gates ({})", self.function.handler)),
            resources: Default::default(),
        }
    }

    /// Calls `operation` of `service` with `input`, both as the AWS model names and shapes them.
    pub async fn call(
        &self,
        service: &str,
        operation: &str,
        input: Value,
    ) -> Result<Value, AwsError> {
        self.services
            .call(&self.context(operation), service, operation, input)
            .await
    }

    /// SSM `GetParameter` with decryption: the parameter's value.
    pub async fn get_parameter(&self, name: &str) -> Result<Zeroizing<String>, AwsError> {
        let mut output = self
            .call(
                "ssm",
                "GetParameter",
                json!({"Name": name, "WithDecryption": true}),
            )
            .await?;
        match output["Parameter"]["Value"].take() {
            Value::String(value) => Ok(Zeroizing::new(value)),
            _ => Err(AwsError::new(
                "InternalFailure",
                500,
                "GetParameter answered no value",
            )),
        }
    }

    /// DynamoDB `GetItem`: the item with `key`, if there is one.
    pub async fn get_item(&self, table: &str, key: Value) -> Result<Option<Item>, AwsError> {
        let mut output = self
            .call(
                "dynamodb",
                "GetItem",
                json!({"TableName": table, "Key": key, "ConsistentRead": true}),
            )
            .await?;
        match output["Item"].take() {
            Value::Object(item) => Ok(Some(item)),
            _ => Ok(None),
        }
    }

    /// DynamoDB `PutItem` of `item`, if `condition` (an expression with its values, when given) holds.
    pub async fn put_item(
        &self,
        table: &str,
        item: Item,
        condition: Option<(&str, Value)>,
    ) -> Result<(), AwsError> {
        let mut input = json!({"TableName": table, "Item": item});
        if let Some((expression, values)) = condition {
            input["ConditionExpression"] = json!(expression);
            input["ExpressionAttributeValues"] = values;
        }
        self.call("dynamodb", "PutItem", input).await.map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn function(role_arn: &str) -> Function {
        Function {
            name: "can2025-secure-gates-prod-login".into(),
            handler: "src/handlers/auth.login".into(),
            role_arn: role_arn.into(),
            account: "000000000000".into(),
            region: "eu-west-1".into(),
            environment: BTreeMap::new(),
            secrets: BTreeMap::new(),
        }
    }

    struct Nothing;

    #[async_trait::async_trait]
    impl Services for Nothing {
        async fn call(
            &self,
            _: &RequestContext,
            _: &str,
            _: &str,
            _: Value,
        ) -> Result<Value, AwsError> {
            Ok(json!({}))
        }
    }

    #[test]
    fn the_session_is_the_functions() {
        let f = function(
            "arn:aws:iam::000000000000:role/can2025-secure-gates-prod-eu-west-1-lambdaRole",
        );
        let ctx = AsRole::new(&Nothing, &f).context("GetParameter");
        assert_eq!(
            ctx.principal_arn,
            "arn:aws:sts::000000000000:assumed-role/can2025-secure-gates-prod-eu-west-1-lambdaRole/can2025-secure-gates-prod-login"
        );
        assert_eq!(
            ctx.caller,
            Caller::Role {
                role_arn: f.role_arn.clone(),
                role_name: "can2025-secure-gates-prod-eu-west-1-lambdaRole".into(),
                session_name: "can2025-secure-gates-prod-login".into(),
            }
        );
        assert_eq!(ctx.operation, "GetParameter");
        assert_eq!(ctx.account, "000000000000");
        assert_eq!(ctx.region, "eu-west-1");
        assert_ne!(
            ctx.request_id,
            AsRole::new(&Nothing, &f).context("GetParameter").request_id
        );
    }

    #[test]
    fn a_role_path_is_not_part_of_the_name() {
        let f = function("arn:aws:iam::000000000000:role/service/gates/lambdaRole");
        let ctx = AsRole::new(&Nothing, &f).context("GetItem");
        assert!(
            matches!(ctx.caller, Caller::Role { ref role_name, .. } if role_name == "lambdaRole")
        );
    }

    #[tokio::test]
    async fn missing_outputs_are_errors_or_nothing() {
        let f = function("arn:aws:iam::000000000000:role/r");
        let as_role = AsRole::new(&Nothing, &f);
        assert_eq!(as_role.get_parameter("/p").await.unwrap_err().status, 500);
        assert_eq!(as_role.get_item("t", json!({})).await.unwrap(), None);
    }
}
