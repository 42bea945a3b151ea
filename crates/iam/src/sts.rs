//! STS (awsQuery): AssumeRole and GetCallerIdentity, and the temporary credentials they hand out.
//!
//! A session token is the session itself, sealed: the root key wraps `{access key id, secret, role,
//! session name, expiry}` (AES-256-GCM, bound to its purpose by AAD). Any node holding the root key can
//! verify a request signed with it, and nothing needs storing; a token that was altered does not open.

use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine;
use m2sec_crypto::RootKey;
use m2sec_proto::model::ServiceModel;
use m2sec_proto::query_service::QueryService;
use m2sec_proto::{AwsError, Caller, RequestContext};
use m2sec_store::Store;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::authorizer::{self, denied, Authorizer};
use crate::entities::{self, Role, ROLE};
use crate::iam_api::{iso, new_secret, unique_id};
use crate::policy::{Decision, PolicyDocument, PolicyKind, Principal, PrincipalKind, Request};

/// botocore's STS model, compiled once.
pub fn model() -> &'static ServiceModel {
    static MODEL: std::sync::OnceLock<ServiceModel> = std::sync::OnceLock::new();
    MODEL.get_or_init(|| ServiceModel::from_json(include_str!("../../proto/models/sts.json")))
}

const TOKEN_PREFIX: &str = "m2sec-sts-1.";
const TOKEN_AAD: &[u8] = b"m2sec:sts-session:v1";

/// What a session token carries.
#[derive(Serialize, Deserialize)]
pub struct Session {
    pub access_key_id: String,
    pub secret: String,
    pub account: String,
    pub role_arn: String,
    pub role_name: String,
    pub role_id: String,
    pub session_name: String,
    /// Unix milliseconds.
    pub expires_at: i64,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("access_key_id", &self.access_key_id)
            .field("secret", &"***")
            .field("role_arn", &self.role_arn)
            .field("session_name", &self.session_name)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

impl Session {
    pub fn arn(&self) -> String {
        m2sec_proto::arn::sts(
            &self.account,
            &format!("assumed-role/{}/{}", self.role_name, self.session_name),
        )
    }

    pub fn seal(&self, root: &RootKey) -> String {
        let plain = zeroize::Zeroizing::new(serde_json::to_vec(self).expect("session serializes"));
        let wrapped = root.wrap(&plain, TOKEN_AAD);
        format!(
            "{TOKEN_PREFIX}{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(wrapped)
        )
    }

    /// `None` for anything that is not a token this root key sealed.
    pub fn open(root: &RootKey, token: &str) -> Option<Session> {
        let wrapped = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token.strip_prefix(TOKEN_PREFIX)?)
            .ok()?;
        let plain = root.unwrap(&wrapped, TOKEN_AAD).ok()?;
        serde_json::from_slice(plain.expose()).ok()
    }
}

pub struct Sts {
    store: Arc<dyn Store>,
    root: Arc<RootKey>,
    authorizer: Arc<Authorizer>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct AssumeRoleInput {
    role_arn: String,
    role_session_name: String,
    duration_seconds: Option<i64>,
    policy: Option<String>,
    policy_arns: Option<Vec<Value>>,
}

#[async_trait]
impl QueryService for Sts {
    fn model(&self) -> &ServiceModel {
        model()
    }

    async fn call(
        &self,
        ctx: &RequestContext,
        operation: &str,
        input: Value,
    ) -> Result<Value, AwsError> {
        use crate::sts_operations::StsOperation as Op;
        match Op::from_name(operation).filter(|o| o.implemented()) {
            Some(Op::GetCallerIdentity) => Ok(self.get_caller_identity(ctx).await?),
            Some(Op::AssumeRole) => {
                self.assume_role(ctx, m2sec_proto::json::from_value(input)?)
                    .await
            }
            _ => Err(AwsError::new(
                "UnsupportedOperation",
                400,
                format!("STS operation {operation} is not supported by m2sec"),
            )),
        }
    }
}

impl Sts {
    pub fn new(store: Arc<dyn Store>, root: Arc<RootKey>, authorizer: Arc<Authorizer>) -> Self {
        Sts {
            store,
            root,
            authorizer,
        }
    }

    async fn get_caller_identity(&self, ctx: &RequestContext) -> Result<Value, AwsError> {
        let user_id = match &ctx.caller {
            Caller::Root => ctx.account.clone(),
            Caller::User { name } => entities::load::<crate::entities::User>(
                self.store.as_ref(),
                &ctx.account,
                entities::USER,
                name,
            )
            .await?
            .map(|u| u.id)
            .unwrap_or_else(|| name.clone()),
            Caller::Role {
                role_name,
                session_name,
                ..
            } => {
                let id = entities::load::<Role>(self.store.as_ref(), &ctx.account, ROLE, role_name)
                    .await?
                    .map(|r| r.id)
                    .unwrap_or_default();
                format!("{id}:{session_name}")
            }
        };
        Ok(json!({"UserId": user_id, "Account": ctx.account, "Arn": ctx.principal_arn}))
    }

    async fn assume_role(
        &self,
        ctx: &RequestContext,
        input: AssumeRoleInput,
    ) -> Result<Value, AwsError> {
        let action = "sts:AssumeRole";
        let refuse = || {
            denied(
                ctx,
                action,
                &input.role_arn,
                "because the role's trust policy does not allow it",
            )
        };
        if input.policy.is_some() || input.policy_arns.as_ref().is_some_and(|p| !p.is_empty()) {
            return Err(AwsError::new(
                "ValidationError",
                400,
                "Session policies (Policy, PolicyArns) are not supported by m2sec yet",
            ));
        }
        let session_ok = !input.role_session_name.is_empty()
            && input.role_session_name.len() <= 64
            && input
                .role_session_name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"=,.@-_".contains(&b));
        if !session_ok {
            return Err(AwsError::new(
                "ValidationError",
                400,
                format!(
                    "1 validation error detected: Value '{}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*",
                    input.role_session_name
                ),
            ));
        }
        let arn = m2sec_proto::arn::Arn::parse(&input.role_arn).ok_or_else(|| {
            AwsError::new(
                "ValidationError",
                400,
                format!("{} is not a valid role ARN", input.role_arn),
            )
        })?;
        if arn.service != "iam" || arn.account != ctx.account || !arn.resource.starts_with("role/")
        {
            return Err(refuse());
        }
        let role_name = arn
            .resource
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_string();
        let role = entities::load::<Role>(self.store.as_ref(), &ctx.account, ROLE, &role_name)
            .await?
            .filter(|r| r.arn == input.role_arn)
            .ok_or_else(refuse)?;
        let duration = input.duration_seconds.unwrap_or(3600);
        if duration < 900 || duration > role.max_session_duration {
            return Err(AwsError::new(
                "ValidationError",
                400,
                format!(
                    "The requested DurationSeconds exceeds the MaxSessionDuration set for this role, or is below 900 seconds: {duration}"
                ),
            ));
        }
        self.check_trust(ctx, &role).await?;

        let now = chrono::Utc::now().timestamp_millis();
        let secret = new_secret();
        let session = Session {
            access_key_id: unique_id("ASIA", 16),
            secret: secret.to_string(),
            account: ctx.account.clone(),
            role_arn: role.arn.clone(),
            role_name: role.name.clone(),
            role_id: role.id.clone(),
            session_name: input.role_session_name.clone(),
            expires_at: now + duration * 1000,
        };
        let token = session.seal(&self.root);
        Ok(json!({
            "Credentials": {
                "AccessKeyId": session.access_key_id,
                "SecretAccessKey": secret.as_str(),
                "SessionToken": token,
                "Expiration": iso(session.expires_at),
            },
            "AssumedRoleUser": {"AssumedRoleId": format!("{}:{}", role.id, session.session_name), "Arn": session.arn()},
            "PackedPolicySize": 0,
        }))
    }

    /// AWS's rule within one account: the trust policy must allow the caller; when it allows only by
    /// naming the account (not the caller itself), the caller's identity policies must allow
    /// sts:AssumeRole too. The account root needs no identity policy.
    async fn check_trust(&self, ctx: &RequestContext, role: &Role) -> Result<(), AwsError> {
        let action = "sts:AssumeRole";
        let trust = PolicyDocument::parse(&role.trust_policy, PolicyKind::Trust)
            .map_err(|e| AwsError::new("MalformedPolicyDocument", 400, e.to_string()))?;
        let context = authorizer::context(ctx, &[]);
        let caller = authorizer::principal(ctx);
        let ask = |p: &Principal| {
            trust.evaluate(&Request {
                action,
                resource: &role.arn,
                principal: p,
                context: &context,
            })
        };
        match ask(&caller) {
            Decision::Allow => {}
            Decision::Deny => {
                return Err(denied(
                    ctx,
                    action,
                    &role.arn,
                    "with an explicit deny in a resource-based policy",
                ))
            }
            Decision::NotApplicable => {
                return Err(denied(
                    ctx,
                    action,
                    &role.arn,
                    "because no resource-based policy allows the sts:AssumeRole action",
                ))
            }
        }
        // Would another principal of the account be allowed as well? Then the trust policy names the
        // account, and the caller's own policies decide.
        let stand_in = Principal {
            arn: m2sec_proto::arn::iam(&ctx.account, "user/m2sec-account-check"),
            account: ctx.account.clone(),
            kind: PrincipalKind::User,
        };
        if ask(&stand_in) == Decision::Allow {
            match self
                .authorizer
                .identity_decision(ctx, action, &role.arn, &context)
                .await?
            {
                Decision::Allow => {}
                Decision::Deny => {
                    return Err(denied(
                        ctx,
                        action,
                        &role.arn,
                        "with an explicit deny in an identity-based policy",
                    ))
                }
                Decision::NotApplicable => {
                    return Err(denied(
                        ctx,
                        action,
                        &role.arn,
                        "because no identity-based policy allows the sts:AssumeRole action",
                    ))
                }
            }
        }
        Ok(())
    }
}
