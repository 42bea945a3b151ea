//! CreateGrant, ListGrants, ListRetirableGrants, RetireGrant, RevokeGrant, and the part grants play in
//! authorization. A grant lets its grantee perform the listed operations on one key, optionally only
//! with a matching encryption context. Stored as documents (kind `kms-grant`, named by grant id).

use m2sec_proto::json::Timestamp;
use m2sec_proto::{Caller, RequestContext};
use m2sec_store::{Document, Scope};
use serde::{Deserialize, Serialize};

use crate::access::Access;
use crate::error::{KmsError, Result};
use crate::keyring::LoadedKey;
use crate::shapes::EncryptionContext;
use crate::{dry_run, now_ms, page, scope, Aliases, Kms};

const KIND: &str = "kms-grant";
const MAX_GRANTS_PER_KEY: usize = 50_000;

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Constraints {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption_context_subset: Option<EncryptionContext>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption_context_equals: Option<EncryptionContext>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Grant {
    key_id: String,
    grant_id: String,
    name: Option<String>,
    grantee: String,
    retiring: Option<String>,
    operations: Vec<String>,
    constraints: Option<Constraints>,
    created_at: i64,
    token: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GrantRequest {
    key_id: Option<String>,
    grantee_principal: Option<String>,
    retiring_principal: Option<String>,
    operations: Option<Vec<String>>,
    constraints: Option<Constraints>,
    name: Option<String>,
    grant_id: Option<String>,
    grant_token: Option<String>,
    limit: Option<u32>,
    marker: Option<String>,
    dry_run: Option<bool>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct CreateGrantResponse {
    grant_token: String,
    grant_id: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GrantListEntry {
    key_id: String,
    grant_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    creation_date: Timestamp,
    grantee_principal: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    retiring_principal: Option<String>,
    issuing_account: String,
    operations: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    constraints: Option<Constraints>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListGrantsResponse {
    grants: Vec<GrantListEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_marker: Option<String>,
    truncated: bool,
}

/// The principals a grant names that match the caller: its own ARN, and for a role session the role.
fn matches_caller(grant_principal: &str, ctx: &RequestContext) -> bool {
    grant_principal == ctx.principal_arn
        || matches!(&ctx.caller, Caller::Role { role_arn, .. } if role_arn == grant_principal)
}

fn constraints_hold(
    constraints: &Option<Constraints>,
    context: Option<&EncryptionContext>,
) -> bool {
    let Some(c) = constraints else { return true };
    let empty = EncryptionContext::new();
    let context = context.unwrap_or(&empty);
    if let Some(equals) = &c.encryption_context_equals {
        if equals != context {
            return false;
        }
    }
    if let Some(subset) = &c.encryption_context_subset {
        if !subset.iter().all(|(k, v)| context.get(k) == Some(v)) {
            return false;
        }
    }
    true
}

/// Grant operations every key accepts.
const ANY_KEY: &[&str] = &["CreateGrant", "DescribeKey", "RetireGrant"];
/// Grant operations with an encryption context, which grant constraints can restrict.
const WITH_CONTEXT: &[&str] = &[
    "Decrypt",
    "Encrypt",
    "GenerateDataKey",
    "GenerateDataKeyWithoutPlaintext",
    "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext",
    "ReEncryptFrom",
    "ReEncryptTo",
];

/// The grant operations a key can do, as AWS checks them in CreateGrant: by key type and usage.
fn operations_of(key: &LoadedKey) -> Vec<&'static str> {
    let mut ops = ANY_KEY.to_vec();
    let r = &key.record;
    match (r.key_spec.as_str(), r.key_usage.as_str()) {
        (crate::keys::SYMMETRIC_DEFAULT, _) => ops.extend_from_slice(WITH_CONTEXT),
        (_, "ENCRYPT_DECRYPT") => ops.extend_from_slice(&[
            "Decrypt",
            "Encrypt",
            "GetPublicKey",
            "ReEncryptFrom",
            "ReEncryptTo",
        ]),
        (_, "SIGN_VERIFY") => ops.extend_from_slice(&["GetPublicKey", "Sign", "Verify"]),
        (_, "GENERATE_VERIFY_MAC") => ops.extend_from_slice(&["GenerateMac", "VerifyMac"]),
        (_, "KEY_AGREEMENT") => ops.extend_from_slice(&["DeriveSharedSecret", "GetPublicKey"]),
        _ => {}
    }
    ops
}

fn check_operations_fit_key(
    key: &LoadedKey,
    operations: &[String],
    constrained: bool,
) -> Result<()> {
    let allowed = operations_of(key);
    let misfits: Vec<&str> = operations
        .iter()
        .map(String::as_str)
        .filter(|o| !allowed.contains(o))
        .collect();
    if !misfits.is_empty() {
        return Err(KmsError::Validation(format!(
            "Grant operations {} are not valid for {}, a {} key with usage {}. Valid: {}.",
            misfits.join(", "),
            key.arn,
            key.record.key_spec,
            key.record.key_usage,
            allowed.join(", ")
        )));
    }
    // Encryption context constraints exist only for symmetric encryption keys.
    if constrained && key.record.key_spec != crate::keys::SYMMETRIC_DEFAULT {
        return Err(KmsError::Validation(format!(
            "Grant constraints (encryption context) are valid only for symmetric encryption keys; {} is {}.",
            key.arn, key.record.key_spec
        )));
    }
    Ok(())
}

impl Kms {
    async fn grants_of(&self, scope: &Scope) -> Result<Vec<Grant>> {
        self.store
            .list_documents(&scope.account, &scope.region, KIND)
            .await?
            .iter()
            .map(|d| {
                serde_json::from_str(&d.body)
                    .map_err(|e| KmsError::Internal(format!("stored grant: {e}")))
            })
            .collect()
    }

    /// Whether a grant lets the caller perform `action` on `key` with this encryption context.
    pub(crate) async fn grant_allows(
        &self,
        ctx: &RequestContext,
        key: &LoadedKey,
        action: &str,
        context: Option<&EncryptionContext>,
    ) -> Result<bool> {
        let operation = action.strip_prefix("kms:").unwrap_or(action);
        Ok(self.grants_of(&key.record.scope).await?.iter().any(|g| {
            g.key_id == key.record.key_id
                && matches_caller(&g.grantee, ctx)
                && g.operations.iter().any(|o| o == operation)
                && constraints_hold(&g.constraints, context)
        }))
    }

    fn entry(&self, scope: &Scope, g: &Grant) -> GrantListEntry {
        GrantListEntry {
            key_id: crate::keyring::key_arn(scope, &g.key_id),
            grant_id: g.grant_id.clone(),
            name: g.name.clone(),
            creation_date: Timestamp(g.created_at),
            grantee_principal: g.grantee.clone(),
            retiring_principal: g.retiring.clone(),
            issuing_account: m2sec_proto::arn::account_root(&scope.account),
            operations: g.operations.clone(),
            constraints: g.constraints.clone(),
        }
    }

    pub(crate) async fn create_grant(
        &self,
        ctx: &RequestContext,
        req: GrantRequest,
    ) -> Result<CreateGrantResponse> {
        let scope = scope(ctx);
        let key_id = crate::required_key_id(&req.key_id)?;
        let key = self
            .key_for(ctx, key_id, Aliases::Refused, Access::of(ctx))
            .await?;
        crate::keys::require_not_pending(&key.record, &key)?;
        let grantee = req
            .grantee_principal
            .ok_or_else(|| KmsError::Validation("GranteePrincipal is required".into()))?;
        let operations = req.operations.unwrap_or_default();
        if operations.is_empty() {
            return Err(KmsError::Validation(
                "Operations must list at least one operation".into(),
            ));
        }
        check_operations_fit_key(&key, &operations, req.constraints.is_some())?;
        let grants = self.grants_of(&scope).await?;
        // The same named grant again is the same grant (CreateGrant is idempotent by Name).
        if let Some(name) = &req.name {
            if let Some(g) = grants.iter().find(|g| {
                g.key_id == key.record.key_id
                    && g.name.as_deref() == Some(name)
                    && g.grantee == grantee
                    && g.operations == operations
                    && g.retiring == req.retiring_principal
                    && g.constraints == req.constraints
            }) {
                return Ok(CreateGrantResponse {
                    grant_token: g.token.clone(),
                    grant_id: g.grant_id.clone(),
                });
            }
        }
        if grants
            .iter()
            .filter(|g| g.key_id == key.record.key_id)
            .count()
            >= MAX_GRANTS_PER_KEY
        {
            return Err(KmsError::LimitExceeded(format!(
                "{} has reached the limit of {MAX_GRANTS_PER_KEY} grants",
                key.arn
            )));
        }
        dry_run(req.dry_run)?;
        let grant = Grant {
            key_id: key.record.key_id.clone(),
            grant_id: hex_id(32),
            name: req.name,
            grantee,
            retiring: req.retiring_principal,
            operations,
            constraints: req.constraints,
            created_at: now_ms(),
            token: hex_id(64),
        };
        self.store
            .put_document(
                &Document {
                    account: scope.account.clone(),
                    region: scope.region.clone(),
                    kind: KIND.into(),
                    name: grant.grant_id.clone(),
                    body: serde_json::to_string(&grant).expect("grant serializes"),
                    updated_at: grant.created_at,
                },
                true,
            )
            .await?;
        Ok(CreateGrantResponse {
            grant_token: grant.token,
            grant_id: grant.grant_id,
        })
    }

    pub(crate) async fn list_grants(
        &self,
        ctx: &RequestContext,
        req: GrantRequest,
    ) -> Result<ListGrantsResponse> {
        let scope = scope(ctx);
        let key_id = crate::required_key_id(&req.key_id)?;
        let key = self
            .key_for(ctx, key_id, Aliases::Refused, Access::of(ctx))
            .await?;
        let grants: Vec<GrantListEntry> = self
            .grants_of(&scope)
            .await?
            .iter()
            .filter(|g| g.key_id == key.record.key_id)
            .filter(|g| req.grant_id.as_ref().is_none_or(|id| &g.grant_id == id))
            .filter(|g| {
                req.grantee_principal
                    .as_ref()
                    .is_none_or(|p| &g.grantee == p)
            })
            .map(|g| self.entry(&scope, g))
            .collect();
        let (grants, next_marker) = page(grants, req.marker.as_deref(), req.limit, 50)?;
        Ok(ListGrantsResponse {
            grants,
            truncated: next_marker.is_some(),
            next_marker,
        })
    }

    pub(crate) async fn list_retirable_grants(
        &self,
        ctx: &RequestContext,
        req: GrantRequest,
    ) -> Result<ListGrantsResponse> {
        let scope = scope(ctx);
        let retiring = req
            .retiring_principal
            .ok_or_else(|| KmsError::Validation("RetiringPrincipal is required".into()))?;
        let grants: Vec<GrantListEntry> = self
            .grants_of(&scope)
            .await?
            .iter()
            .filter(|g| g.retiring.as_deref() == Some(retiring.as_str()))
            .map(|g| self.entry(&scope, g))
            .collect();
        let (grants, next_marker) = page(grants, req.marker.as_deref(), req.limit, 50)?;
        Ok(ListGrantsResponse {
            grants,
            truncated: next_marker.is_some(),
            next_marker,
        })
    }

    /// Retiring: by the grant's retiring principal or its grantee (with RetireGrant among its
    /// operations), or by the account root, naming the grant by token or by key and id.
    pub(crate) async fn retire_grant(
        &self,
        ctx: &RequestContext,
        req: GrantRequest,
    ) -> Result<crate::shapes::Empty> {
        let scope = scope(ctx);
        let grants = self.grants_of(&scope).await?;
        let grant = match (&req.grant_token, &req.key_id) {
            (Some(token), _) => {
                // Tokens m2sec hands out are 64 hex digits; anything else is not a grant token.
                if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(KmsError::InvalidGrantToken(format!(
                        "{token} is not a valid grant token"
                    )));
                }
                grants.iter().find(|g| &g.token == token)
            }
            (None, Some(key_id)) => {
                let key = self.resolve(&scope, key_id, Aliases::Refused).await?;
                let grant_id = req.grant_id.as_deref().ok_or_else(|| {
                    KmsError::InvalidGrantId(
                        "GrantId is required with KeyId to retire a grant without its token".into(),
                    )
                })?;
                grants
                    .iter()
                    .find(|g| g.key_id == key.record.key_id && g.grant_id == grant_id)
            }
            (None, None) => {
                return Err(KmsError::InvalidGrantToken(
                    "Specify the GrantToken, or both the KeyId and the GrantId".into(),
                ))
            }
        }
        .ok_or_else(|| KmsError::NotFound("Grant does not exist".into()))?;
        let may_retire = ctx.caller == Caller::Root
            || grant
                .retiring
                .as_deref()
                .is_some_and(|r| matches_caller(r, ctx))
            || (matches_caller(&grant.grantee, ctx)
                && grant.operations.iter().any(|o| o == "RetireGrant"));
        if !may_retire {
            return Err(KmsError::AccessDenied(format!(
                "User: {} is not authorized to retire grant {}",
                ctx.principal_arn, grant.grant_id
            )));
        }
        dry_run(req.dry_run)?;
        self.store
            .delete_document(&scope.account, &scope.region, KIND, &grant.grant_id)
            .await?;
        Ok(crate::shapes::Empty {})
    }

    pub(crate) async fn revoke_grant(
        &self,
        ctx: &RequestContext,
        req: GrantRequest,
    ) -> Result<crate::shapes::Empty> {
        let scope = scope(ctx);
        let key_id = crate::required_key_id(&req.key_id)?;
        let grant_id = req
            .grant_id
            .as_deref()
            .ok_or_else(|| KmsError::Validation("GrantId is required".into()))?;
        let key = self
            .key_for(ctx, key_id, Aliases::Refused, Access::of(ctx))
            .await?;
        let exists = self
            .grants_of(&scope)
            .await?
            .iter()
            .any(|g| g.key_id == key.record.key_id && g.grant_id == grant_id);
        if !exists {
            return Err(KmsError::NotFound(format!(
                "Grant {grant_id} does not exist for {}",
                key.arn
            )));
        }
        dry_run(req.dry_run)?;
        self.store
            .delete_document(&scope.account, &scope.region, KIND, grant_id)
            .await?;
        Ok(crate::shapes::Empty {})
    }
}

fn hex_id(len: usize) -> String {
    let bytes = m2sec_crypto::random_bytes(len / 2);
    bytes.expose().iter().map(|b| format!("{b:02x}")).collect()
}
