//! The IAM API (awsQuery): users, access keys, inline and managed policies, roles.

use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine;
use m2sec_crypto::RootKey;
use m2sec_proto::model::ServiceModel;
use m2sec_proto::query_service::QueryService;
use m2sec_proto::{AwsError, Caller, RequestContext};
use m2sec_store::{AccessKeyRecord, Store};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::authorizer::Authorizer;
use crate::entities::{self, ManagedPolicy, PolicyVersion, Role, User, POLICY, ROLE, USER};
use crate::error::{IamError, Result};
use crate::generation::IamGeneration;
use crate::policy::{PolicyDocument, PolicyKind};

/// botocore's IAM model, compiled once.
pub fn model() -> &'static ServiceModel {
    static MODEL: std::sync::OnceLock<ServiceModel> = std::sync::OnceLock::new();
    MODEL.get_or_init(|| ServiceModel::from_json(include_str!("../../proto/models/iam.json")))
}

const MAX_KEYS_PER_USER: usize = 2;
const MAX_POLICY_VERSIONS: usize = 5;

/// The operations m2sec implements; the rest of IAM answers `UnsupportedOperation`.
pub const IMPLEMENTED: &[&str] = &[
    "CreateUser",
    "GetUser",
    "ListUsers",
    "DeleteUser",
    "CreateAccessKey",
    "ListAccessKeys",
    "UpdateAccessKey",
    "DeleteAccessKey",
    "PutUserPolicy",
    "GetUserPolicy",
    "ListUserPolicies",
    "DeleteUserPolicy",
    "AttachUserPolicy",
    "DetachUserPolicy",
    "ListAttachedUserPolicies",
    "CreateRole",
    "GetRole",
    "ListRoles",
    "DeleteRole",
    "UpdateAssumeRolePolicy",
    "PutRolePolicy",
    "GetRolePolicy",
    "ListRolePolicies",
    "DeleteRolePolicy",
    "AttachRolePolicy",
    "DetachRolePolicy",
    "ListAttachedRolePolicies",
    "CreatePolicy",
    "GetPolicy",
    "DeletePolicy",
    "ListPolicies",
    "CreatePolicyVersion",
    "GetPolicyVersion",
    "ListPolicyVersions",
    "DeletePolicyVersion",
    "SetDefaultPolicyVersion",
];

pub struct Iam {
    store: Arc<dyn Store>,
    root: Arc<RootKey>,
    authorizer: Arc<Authorizer>,
    /// Advanced after every change, so this node's caches of IAM state drop it before we answer.
    generation: Arc<IamGeneration>,
    writes: tokio::sync::Mutex<()>,
}

use m2sec_store::now_ms;

/// IAM's timestamps on the wire (ISO 8601, UTC).
pub fn iso(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// IAM returns policy documents URL-encoded (RFC 3986); botocore decodes them.
fn encoded(document: &str) -> String {
    percent_encoding::utf8_percent_encode(document, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// `<prefix>` + 17 characters of base32, as IAM unique ids look (AIDA…, AROA…, ANPA…).
pub fn unique_id(prefix: &str, len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let random = m2sec_crypto::random_bytes(len);
    let tail: String = random
        .expose()
        .iter()
        .map(|b| ALPHABET[(*b & 31) as usize] as char)
        .collect();
    format!("{prefix}{tail}")
}

pub fn new_secret() -> zeroize::Zeroizing<String> {
    let random = m2sec_crypto::random_bytes(30);
    zeroize::Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(random.expose()))
}

/// The AAD binding a wrapped secret to its access key id.
pub fn secret_aad(access_key_id: &str) -> Vec<u8> {
    format!("m2sec:access-key-secret:v1|{access_key_id}").into_bytes()
}

fn check_path(path: &Option<String>) -> Result<String> {
    let path = path.clone().unwrap_or_else(|| "/".into());
    if !path.starts_with('/') || !path.ends_with('/') || path.contains("//") {
        return Err(IamError::InvalidInput(format!(
            "The specified value for path is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters: {path}"
        )));
    }
    Ok(path)
}

fn check_document(text: &str, kind: PolicyKind, limit: usize) -> Result<()> {
    let size = text.chars().filter(|c| !c.is_whitespace()).count();
    if size > limit {
        return Err(IamError::LimitExceeded(format!(
            "Cannot exceed quota for PolicySize: {limit}"
        )));
    }
    PolicyDocument::parse(text, kind)
        .map_err(|e| IamError::MalformedPolicyDocument(e.to_string()))?;
    Ok(())
}

/// Pages a list with IAM's Marker/MaxItems (marker = position).
fn page<T>(
    items: Vec<T>,
    marker: Option<&str>,
    max: Option<i64>,
) -> Result<(Vec<T>, bool, Option<String>)> {
    let start: usize = match marker {
        Some(m) => m
            .parse()
            .map_err(|_| IamError::InvalidInput(format!("Invalid Marker: {m}")))?,
        None => 0,
    };
    let max = max.unwrap_or(100).clamp(1, 1000) as usize;
    let total = items.len();
    let page: Vec<T> = items.into_iter().skip(start).take(max).collect();
    let end = start + page.len();
    let truncated = end < total;
    Ok((page, truncated, truncated.then(|| end.to_string())))
}

fn listing(key: &str, items: Vec<Value>, truncated: bool, marker: Option<String>) -> Value {
    let mut out = json!({ key: items, "IsTruncated": truncated });
    if let Some(m) = marker {
        out["Marker"] = json!(m);
    }
    out
}

fn tags_json(tags: &[(String, String)]) -> Value {
    Value::Array(
        tags.iter()
            .map(|(k, v)| json!({"Key": k, "Value": v}))
            .collect(),
    )
}

fn user_json(u: &User) -> Value {
    let mut v = json!({"Path": u.path, "UserName": u.name, "UserId": u.id, "Arn": u.arn, "CreateDate": iso(u.created_at)});
    if !u.tags.is_empty() {
        v["Tags"] = tags_json(&u.tags);
    }
    v
}

fn role_json(r: &Role) -> Value {
    let mut v = json!({
        "Path": r.path, "RoleName": r.name, "RoleId": r.id, "Arn": r.arn, "CreateDate": iso(r.created_at),
        "AssumeRolePolicyDocument": encoded(&r.trust_policy), "MaxSessionDuration": r.max_session_duration,
    });
    if let Some(d) = &r.description {
        v["Description"] = json!(d);
    }
    if !r.tags.is_empty() {
        v["Tags"] = tags_json(&r.tags);
    }
    v
}

fn policy_json(p: &ManagedPolicy) -> Value {
    let mut v = json!({
        "PolicyName": p.name, "PolicyId": p.id, "Arn": p.arn, "Path": p.path, "DefaultVersionId": p.default_version,
        "AttachmentCount": p.attachments, "PermissionsBoundaryUsageCount": 0, "IsAttachable": true,
        "CreateDate": iso(p.created_at), "UpdateDate": iso(p.updated_at),
    });
    if let Some(d) = &p.description {
        v["Description"] = json!(d);
    }
    v
}

fn version_json(p: &ManagedPolicy, v: &PolicyVersion) -> Value {
    json!({"Document": encoded(&v.document), "VersionId": v.id, "IsDefaultVersion": v.id == p.default_version, "CreateDate": iso(v.created_at)})
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct Input {
    user_name: Option<String>,
    role_name: Option<String>,
    policy_name: Option<String>,
    policy_arn: Option<String>,
    policy_document: Option<String>,
    assume_role_policy_document: Option<String>,
    path: Option<String>,
    path_prefix: Option<String>,
    description: Option<String>,
    max_session_duration: Option<i64>,
    access_key_id: Option<String>,
    status: Option<String>,
    version_id: Option<String>,
    set_as_default: Option<bool>,
    marker: Option<String>,
    max_items: Option<i64>,
    scope: Option<String>,
    only_attached: Option<bool>,
    tags: Vec<Tag>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Tag {
    key: String,
    value: String,
}

fn required<'a>(v: &'a Option<String>, name: &str) -> Result<&'a str> {
    v.as_deref()
        .ok_or_else(|| IamError::InvalidInput(format!("{name} is required")))
}

#[async_trait]
impl QueryService for Iam {
    fn model(&self) -> &ServiceModel {
        model()
    }

    async fn call(
        &self,
        ctx: &RequestContext,
        operation: &str,
        input: Value,
    ) -> Result<Value, AwsError> {
        if !IMPLEMENTED.contains(&operation) {
            return Err(AwsError::new(
                "UnsupportedOperation",
                400,
                format!("IAM operation {operation} is not supported by m2sec"),
            ));
        }
        let input: Input = m2sec_proto::json::from_value(input)?;
        let resource = self.resource_of(ctx, &input);
        self.authorizer
            .authorize(
                ctx,
                &format!("iam:{operation}"),
                &resource,
                &Default::default(),
            )
            .await?;
        let result = self.run(ctx, operation, input).await;
        // Failed changes too: one may have stored part of its work before failing.
        if !operation.starts_with("Get") && !operation.starts_with("List") {
            self.generation.advance();
        }
        Ok(result?)
    }
}

impl Iam {
    /// `generation`: the one the caches of IAM state (the `authorizer`'s among them) are stamped with.
    pub fn new(
        store: Arc<dyn Store>,
        root: Arc<RootKey>,
        authorizer: Arc<Authorizer>,
        generation: Arc<IamGeneration>,
    ) -> Self {
        Iam {
            store,
            root,
            authorizer,
            generation,
            writes: tokio::sync::Mutex::new(()),
        }
    }

    /// The ARN an IAM call acts on, for authorization.
    fn resource_of(&self, ctx: &RequestContext, input: &Input) -> String {
        let account = &ctx.account;
        if let Some(arn) = &input.policy_arn {
            return arn.clone();
        }
        if let Some(role) = &input.role_name {
            return m2sec_proto::arn::iam(account, &format!("role/{role}"));
        }
        if let Some(user) = &input.user_name {
            return m2sec_proto::arn::iam(account, &format!("user/{user}"));
        }
        if let Some(policy) = &input.policy_name {
            return m2sec_proto::arn::iam(account, &format!("policy/{policy}"));
        }
        "*".into()
    }

    async fn user(&self, account: &str, name: &str) -> Result<User> {
        entities::load(self.store.as_ref(), account, USER, name)
            .await?
            .ok_or_else(|| {
                IamError::NoSuchEntity(format!("The user with name {name} cannot be found."))
            })
    }

    async fn role(&self, account: &str, name: &str) -> Result<Role> {
        entities::load(self.store.as_ref(), account, ROLE, name)
            .await?
            .ok_or_else(|| {
                IamError::NoSuchEntity(format!("The role with name {name} cannot be found."))
            })
    }

    async fn policy(&self, account: &str, arn: &str) -> Result<ManagedPolicy> {
        let name = arn.rsplit('/').next().unwrap_or(arn);
        entities::load::<ManagedPolicy>(self.store.as_ref(), account, POLICY, name)
            .await?
            .filter(|p| p.arn == arn)
            .ok_or_else(|| {
                IamError::NoSuchEntity(format!("Policy {arn} does not exist or is not attachable."))
            })
    }

    /// The user an access-key call is about: the named one, else the caller (root for the admin key).
    fn key_owner(ctx: &RequestContext, input: &Input) -> Option<String> {
        input.user_name.clone().or_else(|| match &ctx.caller {
            Caller::User { name } => Some(name.clone()),
            _ => None,
        })
    }

    async fn run(&self, ctx: &RequestContext, operation: &str, input: Input) -> Result<Value> {
        let account = ctx.account.as_str();
        let store = self.store.as_ref();
        let _guard = self.writes.lock().await;
        Ok(match operation {
            "CreateUser" => {
                let name = required(&input.user_name, "UserName")?;
                let path = check_path(&input.path)?;
                let user = User {
                    name: name.into(),
                    id: unique_id("AIDA", 17),
                    arn: m2sec_proto::arn::iam(account, &format!("user{path}{name}")),
                    path,
                    created_at: now_ms(),
                    tags: input.tags.into_iter().map(|t| (t.key, t.value)).collect(),
                    inline: Default::default(),
                    attached: Vec::new(),
                };
                entities::save(store, account, USER, name, &user, true).await?;
                json!({"User": user_json(&user)})
            }
            "GetUser" => match &input.user_name {
                Some(name) => json!({"User": user_json(&self.user(account, name).await?)}),
                None => match &ctx.caller {
                    Caller::User { name } => {
                        json!({"User": user_json(&self.user(account, name).await?)})
                    }
                    Caller::Root => {
                        json!({"User": {"Path": "/", "UserName": "root", "UserId": account, "Arn": ctx.principal_arn, "CreateDate": iso(0)}})
                    }
                    Caller::Role { .. } => {
                        return Err(IamError::InvalidInput(
                            "Must specify userName when calling with non-User credentials".into(),
                        ))
                    }
                },
            },
            "ListUsers" => {
                let prefix = input.path_prefix.clone().unwrap_or_else(|| "/".into());
                let users: Vec<User> = entities::list(store, account, USER).await?;
                let users: Vec<Value> = users
                    .iter()
                    .filter(|u| u.path.starts_with(&prefix))
                    .map(user_json)
                    .collect();
                let (items, truncated, marker) =
                    page(users, input.marker.as_deref(), input.max_items)?;
                listing("Users", items, truncated, marker)
            }
            "DeleteUser" => {
                let user = self
                    .user(account, required(&input.user_name, "UserName")?)
                    .await?;
                if !user.inline.is_empty() || !user.attached.is_empty() {
                    return Err(IamError::DeleteConflict(
                        "Cannot delete entity, must delete policies first.".into(),
                    ));
                }
                if !store
                    .list_access_keys(account, Some(&user.name))
                    .await?
                    .is_empty()
                {
                    return Err(IamError::DeleteConflict(
                        "Cannot delete entity, must delete access keys first.".into(),
                    ));
                }
                entities::remove(store, account, USER, &user.name).await?;
                json!({})
            }
            "CreateAccessKey" => {
                let owner = Self::key_owner(ctx, &input);
                let (principal_arn, user_id) = match &owner {
                    Some(name) => {
                        let user = self.user(account, name).await?;
                        (user.arn, Some(user.id))
                    }
                    None => (m2sec_proto::arn::account_root(account), None),
                };
                if owner.is_some()
                    && store
                        .list_access_keys(account, owner.as_deref())
                        .await?
                        .len()
                        >= MAX_KEYS_PER_USER
                {
                    return Err(IamError::LimitExceeded(format!(
                        "Cannot exceed quota for AccessKeysPerUser: {MAX_KEYS_PER_USER}"
                    )));
                }
                let id = unique_id("AKIA", 16);
                let secret = new_secret();
                let created_at = now_ms();
                store
                    .create_access_key(&AccessKeyRecord {
                        access_key_id: id.clone(),
                        account: account.into(),
                        user_name: owner.clone(),
                        user_id,
                        principal_arn,
                        wrapped_secret: self.root.wrap(secret.as_bytes(), &secret_aad(&id)),
                        status: "Active".into(),
                        created_at,
                    })
                    .await?;
                json!({"AccessKey": {"UserName": owner.unwrap_or_else(|| "root".into()), "AccessKeyId": id,
                    "Status": "Active", "SecretAccessKey": secret.as_str(), "CreateDate": iso(created_at)}})
            }
            "ListAccessKeys" => {
                let owner = Self::key_owner(ctx, &input);
                if let Some(name) = &owner {
                    self.user(account, name).await?;
                }
                let keys: Vec<Value> = store
                    .list_access_keys(account, owner.as_deref())
                    .await?
                    .iter()
                    .map(|k| json!({"UserName": owner.clone().unwrap_or_else(|| "root".into()), "AccessKeyId": k.access_key_id, "Status": k.status, "CreateDate": iso(k.created_at)}))
                    .collect();
                let (items, truncated, marker) =
                    page(keys, input.marker.as_deref(), input.max_items)?;
                listing("AccessKeyMetadata", items, truncated, marker)
            }
            "UpdateAccessKey" | "DeleteAccessKey" => {
                let id = required(&input.access_key_id, "AccessKeyId")?;
                let owner = Self::key_owner(ctx, &input);
                let key = store
                    .get_access_key(id)
                    .await?
                    .filter(|k| k.account == account && k.user_name == owner)
                    .ok_or_else(|| {
                        IamError::NoSuchEntity(format!(
                            "The Access Key with id {id} cannot be found."
                        ))
                    })?;
                if operation == "UpdateAccessKey" {
                    let status = required(&input.status, "Status")?;
                    store
                        .set_access_key_status(&key.access_key_id, status)
                        .await?;
                } else {
                    store.delete_access_key(&key.access_key_id).await?;
                }
                json!({})
            }
            "PutUserPolicy" | "PutRolePolicy" => {
                let name = required(&input.policy_name, "PolicyName")?.to_string();
                let doc = required(&input.policy_document, "PolicyDocument")?.to_string();
                if operation == "PutUserPolicy" {
                    check_document(&doc, PolicyKind::Identity, 2048)?;
                    let mut user = self
                        .user(account, required(&input.user_name, "UserName")?)
                        .await?;
                    user.inline.insert(name, doc);
                    entities::save(store, account, USER, &user.name.clone(), &user, false).await?;
                } else {
                    check_document(&doc, PolicyKind::Identity, 10240)?;
                    let mut role = self
                        .role(account, required(&input.role_name, "RoleName")?)
                        .await?;
                    role.inline.insert(name, doc);
                    entities::save(store, account, ROLE, &role.name.clone(), &role, false).await?;
                }
                json!({})
            }
            "GetUserPolicy" | "GetRolePolicy" | "DeleteUserPolicy" | "DeleteRolePolicy"
            | "ListUserPolicies" | "ListRolePolicies" => {
                let on_user = operation.contains("User");
                let (owner, mut inline) = if on_user {
                    let u = self
                        .user(account, required(&input.user_name, "UserName")?)
                        .await?;
                    (u.name.clone(), u.inline.clone())
                } else {
                    let r = self
                        .role(account, required(&input.role_name, "RoleName")?)
                        .await?;
                    (r.name.clone(), r.inline.clone())
                };
                if operation.starts_with("List") {
                    let names: Vec<Value> = inline.keys().map(|k| json!(k)).collect();
                    let (items, truncated, marker) =
                        page(names, input.marker.as_deref(), input.max_items)?;
                    return Ok(listing("PolicyNames", items, truncated, marker));
                }
                let name = required(&input.policy_name, "PolicyName")?;
                let missing = || {
                    IamError::NoSuchEntity(format!(
                        "The {} policy with name {name} cannot be found.",
                        if on_user { "user" } else { "role" }
                    ))
                };
                if operation.starts_with("Get") {
                    let doc = inline.get(name).ok_or_else(missing)?;
                    let owner_key = if on_user { "UserName" } else { "RoleName" };
                    json!({owner_key: owner, "PolicyName": name, "PolicyDocument": encoded(doc)})
                } else {
                    inline.remove(name).ok_or_else(missing)?;
                    if on_user {
                        let mut u = self.user(account, &owner).await?;
                        u.inline = inline;
                        entities::save(store, account, USER, &owner, &u, false).await?;
                    } else {
                        let mut r = self.role(account, &owner).await?;
                        r.inline = inline;
                        entities::save(store, account, ROLE, &owner, &r, false).await?;
                    }
                    json!({})
                }
            }
            "AttachUserPolicy" | "DetachUserPolicy" | "AttachRolePolicy" | "DetachRolePolicy" => {
                let arn = required(&input.policy_arn, "PolicyArn")?;
                let mut policy = self.policy(account, arn).await?;
                let attach = operation.starts_with("Attach");
                let changed = if operation.contains("User") {
                    let mut u = self
                        .user(account, required(&input.user_name, "UserName")?)
                        .await?;
                    let changed = toggle(&mut u.attached, arn, attach, &policy)?;
                    entities::save(store, account, USER, &u.name.clone(), &u, false).await?;
                    changed
                } else {
                    let mut r = self
                        .role(account, required(&input.role_name, "RoleName")?)
                        .await?;
                    let changed = toggle(&mut r.attached, arn, attach, &policy)?;
                    entities::save(store, account, ROLE, &r.name.clone(), &r, false).await?;
                    changed
                };
                if changed {
                    policy.attachments += if attach { 1 } else { -1 };
                    entities::save(store, account, POLICY, &policy.name.clone(), &policy, false)
                        .await?;
                }
                json!({})
            }
            "ListAttachedUserPolicies" | "ListAttachedRolePolicies" => {
                let attached = if operation.contains("User") {
                    self.user(account, required(&input.user_name, "UserName")?)
                        .await?
                        .attached
                } else {
                    self.role(account, required(&input.role_name, "RoleName")?)
                        .await?
                        .attached
                };
                let items: Vec<Value> = attached
                    .iter()
                    .map(|arn| json!({"PolicyArn": arn, "PolicyName": arn.rsplit('/').next().unwrap_or(arn)}))
                    .collect();
                let (items, truncated, marker) =
                    page(items, input.marker.as_deref(), input.max_items)?;
                listing("AttachedPolicies", items, truncated, marker)
            }
            "CreateRole" => {
                let name = required(&input.role_name, "RoleName")?;
                let trust = required(
                    &input.assume_role_policy_document,
                    "AssumeRolePolicyDocument",
                )?;
                check_document(trust, PolicyKind::Trust, 2048)?;
                let path = check_path(&input.path)?;
                let max = input.max_session_duration.unwrap_or(3600);
                if !(3600..=43200).contains(&max) {
                    return Err(IamError::InvalidInput(
                        "MaxSessionDuration must be between 3600 and 43200 seconds".into(),
                    ));
                }
                let role = Role {
                    name: name.into(),
                    id: unique_id("AROA", 17),
                    arn: m2sec_proto::arn::iam(account, &format!("role{path}{name}")),
                    path,
                    created_at: now_ms(),
                    trust_policy: trust.into(),
                    description: input.description.clone(),
                    max_session_duration: max,
                    tags: input.tags.into_iter().map(|t| (t.key, t.value)).collect(),
                    inline: Default::default(),
                    attached: Vec::new(),
                };
                entities::save(store, account, ROLE, name, &role, true).await?;
                json!({"Role": role_json(&role)})
            }
            "GetRole" => {
                json!({"Role": role_json(&self.role(account, required(&input.role_name, "RoleName")?).await?)})
            }
            "ListRoles" => {
                let prefix = input.path_prefix.clone().unwrap_or_else(|| "/".into());
                let roles: Vec<Role> = entities::list(store, account, ROLE).await?;
                let roles: Vec<Value> = roles
                    .iter()
                    .filter(|r| r.path.starts_with(&prefix))
                    .map(role_json)
                    .collect();
                let (items, truncated, marker) =
                    page(roles, input.marker.as_deref(), input.max_items)?;
                listing("Roles", items, truncated, marker)
            }
            "DeleteRole" => {
                let role = self
                    .role(account, required(&input.role_name, "RoleName")?)
                    .await?;
                if !role.inline.is_empty() || !role.attached.is_empty() {
                    return Err(IamError::DeleteConflict(
                        "Cannot delete entity, must delete policies first.".into(),
                    ));
                }
                entities::remove(store, account, ROLE, &role.name).await?;
                json!({})
            }
            "UpdateAssumeRolePolicy" => {
                let doc = required(&input.policy_document, "PolicyDocument")?;
                check_document(doc, PolicyKind::Trust, 2048)?;
                let mut role = self
                    .role(account, required(&input.role_name, "RoleName")?)
                    .await?;
                role.trust_policy = doc.into();
                entities::save(store, account, ROLE, &role.name.clone(), &role, false).await?;
                json!({})
            }
            "CreatePolicy" => {
                let name = required(&input.policy_name, "PolicyName")?;
                let doc = required(&input.policy_document, "PolicyDocument")?;
                check_document(doc, PolicyKind::Identity, 6144)?;
                let path = check_path(&input.path)?;
                let now = now_ms();
                let policy = ManagedPolicy {
                    name: name.into(),
                    id: unique_id("ANPA", 17),
                    arn: m2sec_proto::arn::iam(account, &format!("policy{path}{name}")),
                    path,
                    description: input.description.clone(),
                    created_at: now,
                    updated_at: now,
                    default_version: "v1".into(),
                    versions: vec![PolicyVersion {
                        id: "v1".into(),
                        document: doc.into(),
                        created_at: now,
                    }],
                    attachments: 0,
                    tags: input.tags.into_iter().map(|t| (t.key, t.value)).collect(),
                };
                entities::save(store, account, POLICY, name, &policy, true).await?;
                json!({"Policy": policy_json(&policy)})
            }
            "GetPolicy" => {
                json!({"Policy": policy_json(&self.policy(account, required(&input.policy_arn, "PolicyArn")?).await?)})
            }
            "DeletePolicy" => {
                let policy = self
                    .policy(account, required(&input.policy_arn, "PolicyArn")?)
                    .await?;
                if policy.attachments > 0 {
                    return Err(IamError::DeleteConflict(
                        "Cannot delete a policy attached to entities.".into(),
                    ));
                }
                entities::remove(store, account, POLICY, &policy.name).await?;
                json!({})
            }
            "ListPolicies" => {
                // Only customer managed policies exist here; Scope=AWS lists none.
                let prefix = input.path_prefix.clone().unwrap_or_else(|| "/".into());
                let policies: Vec<ManagedPolicy> = if input.scope.as_deref() == Some("AWS") {
                    Vec::new()
                } else {
                    entities::list(store, account, POLICY).await?
                };
                let items: Vec<Value> = policies
                    .iter()
                    .filter(|p| {
                        p.path.starts_with(&prefix)
                            && (input.only_attached != Some(true) || p.attachments > 0)
                    })
                    .map(policy_json)
                    .collect();
                let (items, truncated, marker) =
                    page(items, input.marker.as_deref(), input.max_items)?;
                listing("Policies", items, truncated, marker)
            }
            "CreatePolicyVersion" => {
                let mut policy = self
                    .policy(account, required(&input.policy_arn, "PolicyArn")?)
                    .await?;
                let doc = required(&input.policy_document, "PolicyDocument")?;
                check_document(doc, PolicyKind::Identity, 6144)?;
                if policy.versions.len() >= MAX_POLICY_VERSIONS {
                    return Err(IamError::LimitExceeded(format!(
                        "A managed policy can have up to {MAX_POLICY_VERSIONS} versions. Before you create a new version, you must delete an existing version."
                    )));
                }
                let next = policy
                    .versions
                    .iter()
                    .filter_map(|v| v.id.trim_start_matches('v').parse::<u32>().ok())
                    .max()
                    .unwrap_or(0)
                    + 1;
                let version = PolicyVersion {
                    id: format!("v{next}"),
                    document: doc.into(),
                    created_at: now_ms(),
                };
                if input.set_as_default == Some(true) {
                    policy.default_version = version.id.clone();
                }
                policy.updated_at = version.created_at;
                policy.versions.push(version.clone());
                entities::save(store, account, POLICY, &policy.name.clone(), &policy, false)
                    .await?;
                json!({"PolicyVersion": version_json(&policy, &version)})
            }
            "GetPolicyVersion" | "DeletePolicyVersion" | "SetDefaultPolicyVersion" => {
                let mut policy = self
                    .policy(account, required(&input.policy_arn, "PolicyArn")?)
                    .await?;
                let id = required(&input.version_id, "VersionId")?;
                let version = policy
                    .versions
                    .iter()
                    .find(|v| v.id == id)
                    .cloned()
                    .ok_or_else(|| {
                        IamError::NoSuchEntity(format!(
                            "Policy {} version {id} does not exist or is not attachable.",
                            policy.arn
                        ))
                    })?;
                match operation {
                    "GetPolicyVersion" => {
                        return Ok(json!({"PolicyVersion": version_json(&policy, &version)}))
                    }
                    "DeletePolicyVersion" if policy.default_version == id => {
                        return Err(IamError::DeleteConflict(
                            "Cannot delete the default version of a policy.".into(),
                        ))
                    }
                    "DeletePolicyVersion" => policy.versions.retain(|v| v.id != id),
                    _ => policy.default_version = id.into(),
                }
                entities::save(store, account, POLICY, &policy.name.clone(), &policy, false)
                    .await?;
                json!({})
            }
            "ListPolicyVersions" => {
                let policy = self
                    .policy(account, required(&input.policy_arn, "PolicyArn")?)
                    .await?;
                let items: Vec<Value> = policy
                    .versions
                    .iter()
                    .rev()
                    .map(|v| version_json(&policy, v))
                    .collect();
                let (items, truncated, marker) =
                    page(items, input.marker.as_deref(), input.max_items)?;
                listing("Versions", items, truncated, marker)
            }
            other => {
                return Err(IamError::Unsupported(format!(
                    "IAM operation {other} is not supported by m2sec"
                )))
            }
        })
    }
}

/// Attaches or detaches `arn`; returns whether anything changed.
fn toggle(
    attached: &mut Vec<String>,
    arn: &str,
    attach: bool,
    policy: &ManagedPolicy,
) -> Result<bool> {
    let present = attached.iter().any(|a| a == arn);
    match (attach, present) {
        (true, true) => Ok(false),
        (true, false) => {
            if attached.len() >= 10 {
                return Err(IamError::LimitExceeded(
                    "Cannot exceed quota for PoliciesPerUser: 10".into(),
                ));
            }
            attached.push(arn.to_string());
            Ok(true)
        }
        (false, true) => {
            attached.retain(|a| a != arn);
            Ok(true)
        }
        (false, false) => Err(IamError::NoSuchEntity(format!(
            "Policy {} was not found.",
            policy.arn
        ))),
    }
}

/// Creates (or updates) a role with a trust policy and one inline policy, for `m2sec serve --bootstrap`.
pub async fn bootstrap_role(
    store: &dyn Store,
    account: &str,
    role_name: &str,
    trust_policy: &str,
    policy_name: &str,
    policy: &str,
) -> Result<String> {
    check_document(trust_policy, PolicyKind::Trust, 2048)?;
    check_document(policy, PolicyKind::Identity, 10240)?;
    let mut role = match entities::load::<Role>(store, account, ROLE, role_name).await? {
        Some(r) => r,
        None => Role {
            name: role_name.into(),
            id: unique_id("AROA", 17),
            path: "/".into(),
            arn: m2sec_proto::arn::iam(account, &format!("role/{role_name}")),
            created_at: now_ms(),
            trust_policy: String::new(),
            description: Some("Created from iamRoleStatements by m2sec serve --bootstrap".into()),
            max_session_duration: 3600,
            tags: Vec::new(),
            inline: Default::default(),
            attached: Vec::new(),
        },
    };
    role.trust_policy = trust_policy.into();
    role.inline.insert(policy_name.into(), policy.into());
    entities::save(store, account, ROLE, role_name, &role, false).await?;
    Ok(role.arn)
}
