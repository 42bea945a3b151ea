//! A stand-in for m2sec's services in the handlers' tests: SSM parameters, DynamoDB tables and KMS
//! signing keys in memory, errors to answer on demand, and a record of every call with its caller.
//! Each call yields to the runtime before it is served, so requests joined in one test interleave
//! as they would against a server; the call itself is served under one lock, atomically.

//!
//! | file | what |
//! |------|------|
//! | `testing/expressions.rs` | the condition and update expressions the handlers write |
//! | `testing/kms.rs` | signing keys: `DescribeKey`, `Sign`, `Verify`, `GetPublicKey` |
//! | `testing/routes.rs` | the functions and events of the routes behind a bearer token |

mod expressions;
mod kms;
mod routes;

pub use routes::*;

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use m2sec_proto::services::Services;
use m2sec_proto::{AwsError, Caller, RequestContext};
use serde_json::{json, Map, Value};

use self::expressions::Placeholders;
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
    /// (service, operation, table or "" for any) → the calls to let through first, and the error
    /// to answer then.
    failures: HashMap<(String, String, String), (usize, AwsError)>,
    calls: Vec<Call>,
    keys: Vec<kms::SigningKey>,
    /// Alias name (`alias/can2025-tickets`) → key ARN.
    aliases: HashMap<String, String>,
    /// At most this many items are read by one Scan call (DynamoDB stops at 1 MB).
    scan_page: Option<usize>,
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

    /// Puts `item` (an object in the wire form) into `table`, replacing any with its key.
    pub fn put(&self, table: &str, item: Value) {
        let mut state = self.0.lock().unwrap();
        let key = key_value(&item[&state.key_names[table]]);
        let item = item.as_object().unwrap().clone();
        state.items.get_mut(table).unwrap().insert(key, item);
    }

    /// The item of `table` whose hash key is the string `key`.
    pub fn item(&self, table: &str, key: &str) -> Option<Map<String, Value>> {
        self.0.lock().unwrap().items[table].get(key).cloned()
    }

    /// From now on, a Scan call reads at most `items` items.
    pub fn set_scan_page(&self, items: usize) {
        self.0.lock().unwrap().scan_page = Some(items);
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
        self.fail_on_table_after(service, operation, table, 0, error);
    }

    /// After `successes` more calls that succeed, `operation` of `service` on `table` answers
    /// `error`.
    pub fn fail_on_table_after(
        &self,
        service: &str,
        operation: &str,
        table: &str,
        successes: usize,
        error: AwsError,
    ) {
        let mut state = self.0.lock().unwrap();
        state.failures.insert(
            (service.into(), operation.into(), table.into()),
            (successes, error),
        );
    }

    /// From now on, every call is served again.
    pub fn heal(&self) {
        self.0.lock().unwrap().failures.clear();
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

    fn key_name(&self, table: &str) -> Result<String, AwsError> {
        self.key_names
            .get(table)
            .cloned()
            .ok_or_else(|| not_found(table))
    }

    /// PutItem, with the conditions of `expressions.rs`.
    fn put_item(&mut self, input: &Value) -> Result<Value, AwsError> {
        let (table, key, item) = self.planned_put(input)?;
        self.items.get_mut(&table).unwrap().insert(key, item);
        Ok(json!({}))
    }

    /// What a PutItem would write (table, key, item), or why it cannot.
    fn planned_put(&self, input: &Value) -> Result<(String, String, Map<String, Value>), AwsError> {
        let table = input["TableName"].as_str().unwrap();
        let key_name = self.key_name(table)?;
        let item = input["Item"].as_object().unwrap().clone();
        let key = key_value(&item[&key_name]);
        let old = self.items[table].get(&key);
        let mut placeholders = Placeholders::of(input);
        if let Some(condition) = input["ConditionExpression"].as_str() {
            let holds = placeholders.condition(condition, old)?;
            placeholders.check_unused()?;
            if !holds {
                return Err(condition_failed(input, old));
            }
        }
        Ok((table.to_string(), key, item))
    }

    /// UpdateItem: the update expression of `expressions.rs` if its condition holds.
    fn update_item(&mut self, input: &Value) -> Result<Value, AwsError> {
        let (table, key, item) = self.planned_update(input)?;
        self.items.get_mut(&table).unwrap().insert(key, item);
        Ok(json!({}))
    }

    /// What an UpdateItem would write (table, key, item), or why it cannot.
    fn planned_update(
        &self,
        input: &Value,
    ) -> Result<(String, String, Map<String, Value>), AwsError> {
        let table = input["TableName"].as_str().unwrap();
        let key_name = self.key_name(table)?;
        let key = input["Key"].as_object().unwrap();
        assert_eq!(key.len(), 1, "the key is the hash key only");
        let key_string = key_value(&key[&key_name]);
        let old = self.items[table].get(&key_string);
        let mut placeholders = Placeholders::of(input);
        let holds = match input["ConditionExpression"].as_str() {
            Some(condition) => placeholders.condition(condition, old)?,
            None => true,
        };
        let update = input["UpdateExpression"]
            .as_str()
            .expect("an UpdateExpression");
        let updated = placeholders.update(update, old.unwrap_or(key));
        placeholders.check_unused()?;
        if !holds {
            return Err(condition_failed(input, old));
        }
        Ok((table.to_string(), key_string, updated?))
    }

    /// TransactGetItems: `Get`s only, each item or nothing.
    fn transact_get_items(&self, input: &Value) -> Result<Value, AwsError> {
        let gets = input["TransactItems"].as_array().unwrap();
        assert!(!gets.is_empty() && gets.len() <= 100, "1 to 100 items");
        let mut responses = Vec::new();
        for get in gets {
            let get = &get["Get"];
            assert!(get.is_object(), "only Get");
            responses.push(self.get_item(get)?);
        }
        Ok(json!({ "Responses": responses }))
    }

    /// TransactWriteItems of `Put`s and `Update`s: all written, or none and the reasons.
    fn transact_write_items(&mut self, input: &Value) -> Result<Value, AwsError> {
        let items = input["TransactItems"].as_array().unwrap();
        assert!(!items.is_empty() && items.len() <= 100, "1 to 100 items");
        let mut writes = Vec::new();
        let mut reasons = Vec::new();
        let mut cancelled = false;
        for item in items {
            let planned = match (item.get("Put"), item.get("Update")) {
                (Some(put), None) => self.planned_put(put),
                (None, Some(update)) => self.planned_update(update),
                _ => panic!("one Put or Update per item: {item}"),
            };
            match planned {
                Ok(write) => {
                    assert!(
                        !writes
                            .iter()
                            .any(|(t, k, _): &(String, String, _)| *t == write.0 && *k == write.1),
                        "one operation per item"
                    );
                    writes.push(write);
                    reasons.push(json!({"Code": "None"}));
                }
                Err(e) if e.code == "ConditionalCheckFailedException" => {
                    cancelled = true;
                    let mut reason =
                        json!({"Code": "ConditionalCheckFailed", "Message": e.message});
                    if let Some(old) = e.fields.get("Item") {
                        reason["Item"] = old.clone();
                    }
                    reasons.push(reason);
                }
                Err(e) => return Err(e),
            }
        }
        if cancelled {
            let mut fields = Map::new();
            fields.insert("CancellationReasons".into(), Value::Array(reasons));
            return Err(AwsError::new(
                "TransactionCanceledException",
                400,
                "Transaction cancelled, please refer cancellation reasons for specific reasons",
            )
            .with_fields(fields));
        }
        for (table, key, item) in writes {
            self.items.get_mut(&table).unwrap().insert(key, item);
        }
        Ok(json!({}))
    }

    /// Scan, a page at a time, with an optional filter.
    fn scan(&self, input: &Value) -> Result<Value, AwsError> {
        let table = input["TableName"].as_str().unwrap();
        let key_name = self.key_name(table)?;
        let start = input["ExclusiveStartKey"].get(&key_name).map(key_value);
        let from = match &start {
            Some(key) => Bound::Excluded(key.clone()),
            None => Bound::Unbounded,
        };
        let mut rest = self.items[table].range((from, Bound::Unbounded)).peekable();
        let page: Vec<_> = rest
            .by_ref()
            .take(self.scan_page.unwrap_or(usize::MAX))
            .map(|(_, item)| item)
            .collect();
        let mut placeholders = Placeholders::of(input);
        let filter = input["FilterExpression"].as_str();
        if let Some(filter) = filter {
            placeholders.condition(filter, None)?;
        }
        placeholders.check_unused()?;
        let mut items = Vec::new();
        for item in &page {
            if filter.map_or(Ok(true), |f| placeholders.condition(f, Some(item)))? {
                items.push(Value::Object((*item).clone()));
            }
        }
        let mut output = json!({"Count": items.len(), "ScannedCount": page.len(), "Items": items});
        if let (Some(last), Some(_)) = (page.last(), rest.peek()) {
            output["LastEvaluatedKey"] = json!({ &key_name: last[&key_name] });
        }
        Ok(output)
    }
}

/// `ConditionalCheckFailedException`, with the item as it was when ALL_OLD is asked for.
fn condition_failed(input: &Value, old: Option<&Map<String, Value>>) -> AwsError {
    let error = AwsError::new(
        "ConditionalCheckFailedException",
        400,
        "The conditional request failed",
    );
    match old {
        Some(item) if input["ReturnValuesOnConditionCheckFailure"] == "ALL_OLD" => {
            let mut fields = Map::new();
            fields.insert("Item".into(), Value::Object(item.clone()));
            error.with_fields(fields)
        }
        _ => error,
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
        tokio::task::yield_now().await;
        let mut state = self.0.lock().unwrap();
        state.calls.push(Call {
            caller: ctx.caller.clone(),
            principal_arn: ctx.principal_arn.clone(),
            operation_in_context: ctx.operation.clone(),
            service: service.into(),
            operation: operation.into(),
            input: input.clone(),
        });
        // The tables a call names: its own, or those of its transaction's items.
        let mut tables: Vec<String> = input["TableName"]
            .as_str()
            .map(String::from)
            .into_iter()
            .collect();
        for item in input["TransactItems"].as_array().into_iter().flatten() {
            if let Some(op) = item.as_object().and_then(|o| o.values().next()) {
                tables.extend(op["TableName"].as_str().map(String::from));
            }
        }
        tables.push(String::new());
        for table in tables {
            let key = (service.to_string(), operation.to_string(), table);
            match state.failures.get_mut(&key) {
                Some((0, error)) => return Err(error.clone()),
                Some((successes, _)) => *successes -= 1,
                None => {}
            }
        }
        match (service, operation) {
            ("ssm", "GetParameter") => state.get_parameter(&input),
            ("dynamodb", "GetItem") => state.get_item(&input),
            ("dynamodb", "PutItem") => state.put_item(&input),
            ("dynamodb", "UpdateItem") => state.update_item(&input),
            ("dynamodb", "Scan") => state.scan(&input),
            ("dynamodb", "TransactGetItems") => state.transact_get_items(&input),
            ("dynamodb", "TransactWriteItems") => state.transact_write_items(&input),
            ("kms", "DescribeKey") => state.describe_key(&input),
            ("kms", "Sign") => state.sign(&input),
            ("kms", "Verify") => state.verify(&input),
            ("kms", "GetPublicKey") => state.get_public_key(&input),
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
