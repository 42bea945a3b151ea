//! Calls to m2sec's services as a function's IAM role: each call carries the context of an
//! assumed-role session named after the function, as Lambda's own credentials would, so the role's
//! policies decide and the trail names the function.

use m2sec_proto::services::Services;
use m2sec_proto::{arn, random_uuid, AwsError, Caller, RequestContext};
use serde_json::{json, Map, Value};
use zeroize::Zeroizing;

use crate::proxy::Response;
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
                object([
                    ("TableName", table.into()),
                    ("Key", key),
                    ("ConsistentRead", true.into()),
                ]),
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
        let mut input = object([("TableName", table.into()), ("Item", Value::Object(item))]);
        if let Some((expression, values)) = condition {
            input["ConditionExpression"] = json!(expression);
            set_unless_empty(&mut input, "ExpressionAttributeValues", values);
        }
        self.call("dynamodb", "PutItem", input).await.map(drop)
    }

    /// DynamoDB `UpdateItem` of the item with `key`, if `update.condition` holds. A failed condition
    /// is `ConditionalCheckFailedException` carrying the item as it was, if there was one, in
    /// `fields["Item"]` (ReturnValuesOnConditionCheckFailure `ALL_OLD`).
    pub async fn update_item(
        &self,
        table: &str,
        key: Value,
        update: Update<'_>,
    ) -> Result<(), AwsError> {
        let mut input = object([
            ("TableName", table.into()),
            ("Key", key),
            ("UpdateExpression", update.expression.into()),
        ]);
        if let Some(condition) = update.condition {
            input["ConditionExpression"] = json!(condition);
            input["ReturnValuesOnConditionCheckFailure"] = json!("ALL_OLD");
        }
        set_unless_empty(&mut input, "ExpressionAttributeNames", update.names);
        set_unless_empty(&mut input, "ExpressionAttributeValues", update.values);
        self.call("dynamodb", "UpdateItem", input).await.map(drop)
    }

    /// The table the function's environment variable `variable` (`USERS_TABLE`) names; `None`,
    /// with an error logged, if it is not set.
    pub fn table(&self, variable: &str) -> Option<&'a str> {
        let table = self.function.environment.get(variable).map(String::as_str);
        if table.is_none() {
            tracing::error!(function = %self.function.name, "{variable} is not set");
        }
        table
    }

    /// Logs a failed call (the function, what it was for, the AWS error code and message) and
    /// answers the client's 500.
    pub fn failed(&self, what: &str, e: &AwsError) -> Response {
        tracing::error!(function = %self.function.name, code = %e.code, message = %e.message,
            "{what}");
        Response::internal_error()
    }

    /// Writes an audit item of `kind` by `by` with `attributes` to `AUDIT_TABLE`, if the function
    /// has one; a failure is logged (and returned, for a caller that must not answer without it).
    /// The caller never puts a password, a JWT, a fan id or a ticket code in `attributes`.
    pub async fn audit(
        &self,
        kind: &str,
        by: Option<&str>,
        attributes: Item,
    ) -> Result<(), AwsError> {
        let Some(table) = self.function.environment.get("AUDIT_TABLE") else {
            return Ok(());
        };
        let mut item = attributes;
        item.insert("auditId".into(), json!({"S": random_uuid()}));
        item.insert("kind".into(), json!({"S": kind}));
        item.insert("at".into(), json!({"N": crate::now_millis().to_string()}));
        if let Some(by) = by {
            item.insert("by".into(), json!({"S": by}));
        }
        let written = self.put_item(table, item, None).await;
        if let Err(e) = &written {
            tracing::error!(function = %self.function.name, table = %table, code = %e.code,
                message = %e.message, "cannot write the {kind} audit record");
        }
        written
    }
}

/// An `UpdateItem`'s expressions: `expression` (`SET #status = :s`), the `condition` it is made
/// under, and the names and values both use (`{}` when none).
pub struct Update<'e> {
    pub expression: &'e str,
    pub condition: Option<&'e str>,
    pub names: Value,
    pub values: Value,
}

/// A JSON object of `members`, their values moved in as they are: `json!` copies every value it is
/// given, item and key trees included.
pub fn object<const N: usize>(members: [(&str, Value); N]) -> Value {
    Value::Object(
        members
            .into_iter()
            .map(|(name, value)| (name.to_string(), value))
            .collect(),
    )
}

/// DynamoDB refuses empty `ExpressionAttributeNames`/`Values`: they are sent only when not empty.
fn set_unless_empty(input: &mut Value, member: &str, value: Value) {
    if value.as_object().is_some_and(|o| !o.is_empty()) {
        input[member] = value;
    }
}

/// An item from an object literal of attribute values.
pub fn item(value: Value) -> Item {
    match value {
        Value::Object(item) => item,
        _ => Map::new(),
    }
}

/// The string attribute `name` of `item`.
pub fn string_attribute<'i>(item: &'i Item, name: &str) -> Option<&'i str> {
    item.get(name)?.get("S")?.as_str()
}

/// The number attribute `name` of `item`, if it is an integer.
pub fn integer_attribute(item: &Item, name: &str) -> Option<i64> {
    item.get(name)?.get("N")?.as_str()?.parse().ok()
}

/// The list-of-strings attribute `name` of `item` (`{"L": [{"S": …}]}`).
pub fn strings_attribute(item: &Item, name: &str) -> Option<Vec<String>> {
    strings_of(item.get(name)?)
}

/// A list-of-strings attribute value as strings.
pub fn strings_of(value: &Value) -> Option<Vec<String>> {
    value
        .get("L")?
        .as_array()?
        .iter()
        .map(|v| v.get("S").and_then(Value::as_str).map(String::from))
        .collect()
}

/// Strings as a list attribute value.
pub fn strings_value(strings: &[String]) -> Value {
    json!({"L": strings.iter().map(|s| json!({"S": s})).collect::<Vec<_>>()})
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
