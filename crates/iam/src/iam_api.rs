//! The IAM API (awsQuery): users, access keys, inline and managed policies, roles.

use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine;
use m2sec_crypto::RootKey;
use m2sec_proto::model::ServiceModel;
use m2sec_proto::query_service::QueryService;
use m2sec_proto::{AwsError, Caller, RequestContext};
use m2sec_store::Store;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::authorizer::Authorizer;
use crate::entities::{self, ManagedPolicy, PolicyVersion, Role, User, POLICY, ROLE, USER};
use crate::error::{IamError, Result};
use crate::generation::IamGeneration;
use crate::managed_policies::VersionAction;
use crate::operations::IamOperation;
use crate::policy::{PolicyDocument, PolicyKind};
use crate::shapes::*;

/// botocore's IAM model, compiled once.
pub fn model() -> &'static ServiceModel {
    static MODEL: std::sync::OnceLock<ServiceModel> = std::sync::OnceLock::new();
    MODEL.get_or_init(|| ServiceModel::from_json(include_str!("../../proto/models/iam.json")))
}

pub(crate) const MAX_KEYS_PER_USER: usize = 2;
pub(crate) const MAX_POLICY_VERSIONS: usize = 5;

pub struct Iam {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) root: Arc<RootKey>,
    pub(crate) authorizer: Arc<Authorizer>,
    /// Advanced after every change, so this node's caches of IAM state drop it before we answer.
    pub(crate) generation: Arc<IamGeneration>,
    pub(crate) writes: tokio::sync::Mutex<()>,
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
pub(crate) fn encoded(document: &str) -> String {
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

pub(crate) fn check_path(path: &Option<String>) -> Result<String> {
    let path = path.clone().unwrap_or_else(|| "/".into());
    if !path.starts_with('/') || !path.ends_with('/') || path.contains("//") {
        return Err(IamError::InvalidInput(format!(
            "The specified value for path is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters: {path}"
        )));
    }
    Ok(path)
}

pub(crate) fn check_document(text: &str, kind: PolicyKind, limit: usize) -> Result<()> {
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

/// One page of a listing under `key`, with IAM's Marker/MaxItems (the marker is a position):
/// `{key: [...], "IsTruncated": …, "Marker": …}`.
pub(crate) fn paged(key: &str, items: Vec<Value>, input: &Paging) -> Result<Value> {
    let start: usize = match input.marker.as_deref() {
        Some(m) => m
            .parse()
            .map_err(|_| IamError::InvalidInput(format!("Invalid Marker: {m}")))?,
        None => 0,
    };
    let max = input.max_items.unwrap_or(100).clamp(1, 1000) as usize;
    let total = items.len();
    let page: Vec<Value> = items.into_iter().skip(start).take(max).collect();
    let end = start + page.len();
    let truncated = end < total;
    let mut out = json!({ key: page, "IsTruncated": truncated });
    if truncated {
        out["Marker"] = json!(end.to_string());
    }
    Ok(out)
}

pub(crate) fn tags_json(tags: &[(String, String)]) -> Value {
    Value::Array(
        tags.iter()
            .map(|(k, v)| json!({"Key": k, "Value": v}))
            .collect(),
    )
}

pub(crate) fn user_json(u: &User) -> Value {
    let mut v = json!({"Path": u.path, "UserName": u.name, "UserId": u.id, "Arn": u.arn, "CreateDate": iso(u.created_at)});
    if !u.tags.is_empty() {
        v["Tags"] = tags_json(&u.tags);
    }
    v
}

pub(crate) fn role_json(r: &Role) -> Value {
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

pub(crate) fn policy_json(p: &ManagedPolicy) -> Value {
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

pub(crate) fn version_json(p: &ManagedPolicy, v: &PolicyVersion) -> Value {
    json!({"Document": encoded(&v.document), "VersionId": v.id, "IsDefaultVersion": v.id == p.default_version, "CreateDate": iso(v.created_at)})
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
        let Some(op) = IamOperation::from_name(operation).filter(|o| o.implemented()) else {
            return Err(AwsError::new(
                "UnsupportedOperation",
                400,
                format!("IAM operation {operation} is not supported by m2sec"),
            ));
        };
        let target = Target::deserialize(&input).unwrap_or_default();
        let resource = self.resource_of(ctx, &target);
        self.authorizer
            .authorize(ctx, &op.action(), &resource, &Default::default())
            .await?;
        let result = self.run(ctx, op, input).await;
        // Failed changes too: one may have stored part of its work before failing.
        if !op.is_read() {
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
    pub(crate) fn resource_of(&self, ctx: &RequestContext, input: &Target) -> String {
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

    pub(crate) async fn user(&self, account: &str, name: &str) -> Result<User> {
        entities::load(self.store.as_ref(), account, USER, name)
            .await?
            .ok_or_else(|| {
                IamError::NoSuchEntity(format!("The user with name {name} cannot be found."))
            })
    }

    pub(crate) async fn role(&self, account: &str, name: &str) -> Result<Role> {
        entities::load(self.store.as_ref(), account, ROLE, name)
            .await?
            .ok_or_else(|| {
                IamError::NoSuchEntity(format!("The role with name {name} cannot be found."))
            })
    }

    pub(crate) async fn policy(&self, account: &str, arn: &str) -> Result<ManagedPolicy> {
        let name = arn.rsplit('/').next().unwrap_or(arn);
        entities::load::<ManagedPolicy>(self.store.as_ref(), account, POLICY, name)
            .await?
            .filter(|p| p.arn == arn)
            .ok_or_else(|| {
                IamError::NoSuchEntity(format!("Policy {arn} does not exist or is not attachable."))
            })
    }

    /// The user an access-key call is about: the named one, else the caller (root for the admin key).
    pub(crate) fn key_owner(ctx: &RequestContext, user_name: Option<String>) -> Option<String> {
        user_name.or_else(|| match &ctx.caller {
            Caller::User { name } => Some(name.clone()),
            _ => None,
        })
    }

    /// The dispatch table: each operation to its handler (see the table in `lib.rs`).
    async fn run(
        &self,
        ctx: &RequestContext,
        op: IamOperation,
        input: Value,
    ) -> std::result::Result<Value, AwsError> {
        use m2sec_proto::json::from_value as typed;
        use VersionAction as V;
        // Reads take no lock; changes are serialized on this node (read-modify-write of documents).
        let _guard = if op.is_read() {
            None
        } else {
            Some(self.writes.lock().await)
        };
        use IamOperation as Op;
        let out = match op {
            Op::CreateUser => self.create_user(ctx, typed(input)?).await,
            Op::GetUser => self.get_user(ctx, typed(input)?).await,
            Op::ListUsers => self.list_users(ctx, typed(input)?).await,
            Op::DeleteUser => self.delete_user(ctx, typed(input)?).await,
            Op::CreateAccessKey => self.create_access_key(ctx, typed(input)?).await,
            Op::ListAccessKeys => self.list_access_keys(ctx, typed(input)?).await,
            Op::UpdateAccessKey => self.change_access_key(ctx, typed(input)?, false).await,
            Op::DeleteAccessKey => self.change_access_key(ctx, typed(input)?, true).await,
            Op::PutUserPolicy => self.put_inline_policy(ctx, for_user(input)?).await,
            Op::PutRolePolicy => self.put_inline_policy(ctx, for_role(input)?).await,
            Op::GetUserPolicy => self.get_inline_policy(ctx, for_user(input)?).await,
            Op::GetRolePolicy => self.get_inline_policy(ctx, for_role(input)?).await,
            Op::ListUserPolicies => self.list_inline_policies(ctx, for_user(input)?).await,
            Op::ListRolePolicies => self.list_inline_policies(ctx, for_role(input)?).await,
            Op::DeleteUserPolicy => self.delete_inline_policy(ctx, for_user(input)?).await,
            Op::DeleteRolePolicy => self.delete_inline_policy(ctx, for_role(input)?).await,
            Op::AttachUserPolicy => self.attach_policy(ctx, for_user(input)?, true).await,
            Op::AttachRolePolicy => self.attach_policy(ctx, for_role(input)?, true).await,
            Op::DetachUserPolicy => self.attach_policy(ctx, for_user(input)?, false).await,
            Op::DetachRolePolicy => self.attach_policy(ctx, for_role(input)?, false).await,
            Op::ListAttachedUserPolicies => {
                self.list_attached_policies(ctx, for_user(input)?).await
            }
            Op::ListAttachedRolePolicies => {
                self.list_attached_policies(ctx, for_role(input)?).await
            }
            Op::CreateRole => self.create_role(ctx, typed(input)?).await,
            Op::GetRole => self.get_role(ctx, typed(input)?).await,
            Op::ListRoles => self.list_roles(ctx, typed(input)?).await,
            Op::DeleteRole => self.delete_role(ctx, typed(input)?).await,
            Op::UpdateAssumeRolePolicy => self.update_assume_role_policy(ctx, typed(input)?).await,
            Op::CreatePolicy => self.create_policy(ctx, typed(input)?).await,
            Op::GetPolicy => self.get_policy(ctx, typed(input)?).await,
            Op::DeletePolicy => self.delete_policy(ctx, typed(input)?).await,
            Op::ListPolicies => self.list_policies(ctx, typed(input)?).await,
            Op::CreatePolicyVersion => self.create_policy_version(ctx, typed(input)?).await,
            Op::GetPolicyVersion => self.policy_version(ctx, typed(input)?, V::Get).await,
            Op::DeletePolicyVersion => self.policy_version(ctx, typed(input)?, V::Delete).await,
            Op::SetDefaultPolicyVersion => {
                self.policy_version(ctx, typed(input)?, V::SetDefault).await
            }
            Op::ListPolicyVersions => self.list_policy_versions(ctx, typed(input)?).await,
            _ => Err(IamError::Unsupported(format!(
                "IAM operation {} is not supported by m2sec",
                op.name()
            ))),
        };
        Ok(out?)
    }
}

/// Attaches or detaches `arn`; returns whether anything changed.
pub(crate) fn toggle(
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
