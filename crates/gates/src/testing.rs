//! A stand-in for m2sec's services in the handlers' tests: SSM parameters and DynamoDB tables in
//! memory, errors to answer on demand, and a record of every call with its caller.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use m2sec_proto::services::Services;
use m2sec_proto::{AwsError, Caller, RequestContext};
use serde_json::{json, Map, Value};

use crate::Function;

pub const ROLE_ARN: &str =
    "arn:aws:iam::000000000000:role/can2025-secure-gates-prod-eu-west-1-lambdaRole";
pub const USERS_TABLE: &str = "can2025-secure-gates-users-prod";
pub const AUDIT_TABLE: &str = "can2025-secure-gates-audit-prod";
pub const JWT_PARAMETER: &str = "/can2025/prod/jwt-secret";

/// One call the handlers made.
#[derive(Debug, Clone)]
pub struct Call {
    pub caller: Caller,
    pub principal_arn: String,
    pub operation_in_context: String,
    pub service: String,
    pub operation: String,
    pub input: Value,
}

#[derive(Default)]
struct State {
    parameters: HashMap<String, String>,
    /// Table → its hash key's name.
    key_names: HashMap<String, String>,
    /// Table → key value → item.
    items: HashMap<String, BTreeMap<String, Map<String, Value>>>,
    /// (service, operation, table or "" for any) → the error to answer.
    failures: HashMap<(String, String, String), AwsError>,
    calls: Vec<Call>,
}

#[derive(Default)]
pub struct Fake(Mutex<State>);

impl Fake {
    /// The login function's world: the JWT secret parameter, the users and audit tables.
    pub fn new() -> Arc<Fake> {
        let fake = Arc::new(Fake::default());
        fake.set_parameter(JWT_PARAMETER, "s3cret");
        fake.create_table(USERS_TABLE, "userId");
        fake.create_table(AUDIT_TABLE, "auditId");
        fake
    }

    pub fn set_parameter(&self, name: &str, value: &str) {
        let mut state = self.0.lock().unwrap();
        state.parameters.insert(name.into(), value.into());
    }

    pub fn create_table(&self, table: &str, key_name: &str) {
        let mut state = self.0.lock().unwrap();
        state.key_names.insert(table.into(), key_name.into());
        state.items.insert(table.into(), BTreeMap::new());
    }

    /// A user of the users table.
    pub fn add_user(&self, username: &str, role: &str, password_hash: &str) {
        let item = json!({
            "userId": {"S": username},
            "role": {"S": role},
            "passwordHash": {"S": password_hash},
            "displayName": {"S": format!("User {username}")},
        });
        let mut state = self.0.lock().unwrap();
        let table = state.items.get_mut(USERS_TABLE).unwrap();
        table.insert(username.into(), item.as_object().unwrap().clone());
    }

    pub fn user(&self, username: &str) -> Option<Map<String, Value>> {
        self.0.lock().unwrap().items[USERS_TABLE]
            .get(username)
            .cloned()
    }

    pub fn items(&self, table: &str) -> Vec<Map<String, Value>> {
        self.0.lock().unwrap().items[table]
            .values()
            .cloned()
            .collect()
    }

    /// From now on, `operation` of `service` answers `error`.
    pub fn fail(&self, service: &str, operation: &str, error: AwsError) {
        self.fail_on_table(service, operation, "", error);
    }

    /// From now on, `operation` of `service` on `table` answers `error`.
    pub fn fail_on_table(&self, service: &str, operation: &str, table: &str, error: AwsError) {
        let mut state = self.0.lock().unwrap();
        state
            .failures
            .insert((service.into(), operation.into(), table.into()), error);
    }

    pub fn calls(&self) -> Vec<Call> {
        self.0.lock().unwrap().calls.clone()
    }

    pub fn calls_of(&self, operation: &str) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|c| c.operation == operation)
            .collect()
    }
}

fn not_found(what: &str) -> AwsError {
    AwsError::new(
        "ResourceNotFoundException",
        400,
        format!("{what} not found"),
    )
}

fn key_value(value: &Value) -> String {
    value["S"]
        .as_str()
        .map_or_else(|| value.to_string(), String::from)
}

impl State {
    fn get_parameter(&self, input: &Value) -> Result<Value, AwsError> {
        assert_eq!(input["WithDecryption"], true, "secrets are read decrypted");
        let name = input["Name"].as_str().unwrap();
        let value = self
            .parameters
            .get(name)
            .ok_or_else(|| AwsError::new("ParameterNotFound", 400, format!("{name} not found")))?;
        Ok(
            json!({"Parameter": {"Name": name, "Type": "SecureString", "Value": value, "Version": 1}}),
        )
    }

    fn get_item(&self, input: &Value) -> Result<Value, AwsError> {
        let table = input["TableName"].as_str().unwrap();
        let key_name = self.key_names.get(table).ok_or_else(|| not_found(table))?;
        let key = input["Key"].as_object().unwrap();
        assert_eq!(key.len(), 1, "the key is the hash key only");
        let item = self.items[table].get(&key_value(&key[key_name]));
        Ok(item.map_or_else(|| json!({}), |item| json!({"Item": item})))
    }

    /// PutItem, with the one condition form the handlers use: `NAME = :value`.
    fn put_item(&mut self, input: &Value) -> Result<Value, AwsError> {
        let table = input["TableName"].as_str().unwrap();
        let key_name = self
            .key_names
            .get(table)
            .ok_or_else(|| not_found(table))?
            .clone();
        let item = input["Item"].as_object().unwrap().clone();
        let key = key_value(&item[&key_name]);
        if let Some(condition) = input["ConditionExpression"].as_str() {
            let (name, placeholder) = condition.split_once(" = ").expect("NAME = :value");
            let expected = &input["ExpressionAttributeValues"][placeholder];
            let current = self.items[table].get(&key).and_then(|i| i.get(name));
            if current != Some(expected) {
                return Err(AwsError::new(
                    "ConditionalCheckFailedException",
                    400,
                    "The conditional request failed",
                ));
            }
        }
        self.items.get_mut(table).unwrap().insert(key, item);
        Ok(json!({}))
    }
}

#[async_trait]
impl Services for Fake {
    async fn call(
        &self,
        ctx: &RequestContext,
        service: &str,
        operation: &str,
        input: Value,
    ) -> Result<Value, AwsError> {
        let mut state = self.0.lock().unwrap();
        state.calls.push(Call {
            caller: ctx.caller.clone(),
            principal_arn: ctx.principal_arn.clone(),
            operation_in_context: ctx.operation.clone(),
            service: service.into(),
            operation: operation.into(),
            input: input.clone(),
        });
        let table = input["TableName"].as_str().unwrap_or_default();
        for table in [table, ""] {
            let key = (
                service.to_string(),
                operation.to_string(),
                table.to_string(),
            );
            if let Some(error) = state.failures.get(&key) {
                return Err(error.clone());
            }
        }
        match (service, operation) {
            ("ssm", "GetParameter") => state.get_parameter(&input),
            ("dynamodb", "GetItem") => state.get_item(&input),
            ("dynamodb", "PutItem") => state.put_item(&input),
            _ => Err(AwsError::unsupported(service, operation)),
        }
    }
}

/// The login function as the deployer makes it from the guide's Serverless file.
pub fn login_function() -> Function {
    Function {
        name: "can2025-secure-gates-prod-login".into(),
        handler: "src/handlers/auth.login".into(),
        role_arn: ROLE_ARN.into(),
        account: "000000000000".into(),
        region: "eu-west-1".into(),
        environment: [
            ("USERS_TABLE", USERS_TABLE),
            ("AUDIT_TABLE", AUDIT_TABLE),
            ("JWT_SECRET_PARAM", JWT_PARAMETER),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect(),
        secrets: [("JWT_SECRET".to_string(), JWT_PARAMETER.to_string())].into(),
    }
}

/// `POST /auth/login` from `203.0.113.10` with `{username, password}`.
pub fn login_event(username: &str, password: &str) -> Value {
    login_event_from(
        &json!({"username": username, "password": password}).to_string(),
        "203.0.113.10",
    )
}

pub fn login_event_from(body: &str, source_ip: &str) -> Value {
    json!({
        "resource": "/auth/login",
        "path": "/auth/login",
        "httpMethod": "POST",
        "headers": {"Content-Type": "application/json"},
        "pathParameters": null,
        "requestContext": {
            "resourcePath": "/auth/login",
            "httpMethod": "POST",
            "stage": "prod",
            "identity": {"sourceIp": source_ip, "userAgent": "curl/8.5.0"},
        },
        "body": body,
        "isBase64Encoded": false,
    })
}
