//! Who may use a key: AWS's KMS authorization, from the key policy, the caller's IAM policies and
//! grants.
//!
//! - An explicit `Deny` in the key policy or in the caller's policies refuses.
//! - A grant for the caller and the operation allows (within its constraints).
//! - The key policy must allow the caller. When it does only by naming the account (the default
//!   policy's `arn:aws:iam::<account>:root`), that delegates to IAM: the caller's identity-based
//!   policies must allow as well. A statement naming the caller itself, or `*`, allows on its own.
//! - The account root is subject to the key policy like everyone else, as in AWS.

use std::sync::Arc;

use m2sec_iam::authorizer::{self, denied};
use m2sec_iam::policy::{Decision, PolicyDocument, PolicyKind, Principal, Request};
use m2sec_proto::{AwsError, RequestContext};

use crate::error::{KmsError, Result};
use crate::keyring::LoadedKey;
use crate::shapes::EncryptionContext;
use crate::{scope, Aliases, Kms};

/// What a request wants to do with a key.
pub(crate) struct Access<'a> {
    /// `kms:Encrypt`, …
    pub action: String,
    pub encryption_context: Option<&'a EncryptionContext>,
    /// Set when another service (SSM) calls on the caller's behalf: `ssm.<region>.amazonaws.com`.
    pub via_service: Option<String>,
    /// KMS condition keys taken from the request (`kms:SigningAlgorithm`, `kms:ReplicaRegion`, …).
    pub request_keys: Vec<(&'static str, String)>,
}

impl<'a> Access<'a> {
    pub fn of(ctx: &RequestContext) -> Self {
        Access {
            action: format!("kms:{}", ctx.operation),
            encryption_context: None,
            via_service: None,
            request_keys: Vec::new(),
        }
    }

    pub fn action(action: &str) -> Self {
        Access {
            action: action.to_string(),
            encryption_context: None,
            via_service: None,
            request_keys: Vec::new(),
        }
    }

    pub fn with_context(mut self, c: &'a EncryptionContext) -> Self {
        self.encryption_context = Some(c);
        self
    }

    /// Adds a condition key from the request, e.g. `("kms:SigningAlgorithm", "ECDSA_SHA_256")`.
    pub fn with(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.request_keys.push((key, value.into()));
        self
    }
}

fn denial(e: AwsError) -> KmsError {
    KmsError::AccessDenied(e.message)
}

impl Kms {
    /// Resolves the key a request names and checks the caller may use it for the request's operation.
    pub(crate) async fn key_for(
        &self,
        ctx: &RequestContext,
        key_id: &str,
        aliases: Aliases,
        access: Access<'_>,
    ) -> Result<Arc<LoadedKey>> {
        let key = self.resolve(&scope(ctx), key_id, aliases).await?;
        self.authorize_key(ctx, &key, &access).await?;
        Ok(key)
    }

    /// Identity-only authorization for operations that name no key (CreateKey, ListKeys, …).
    pub(crate) async fn authorize_account(
        &self,
        ctx: &RequestContext,
        resource: &str,
    ) -> Result<()> {
        let context = authorizer::context(ctx, &[("kms:CallerAccount", vec![ctx.account.clone()])]);
        self.authorizer
            .authorize(ctx, &format!("kms:{}", ctx.operation), resource, &context)
            .await
            .map_err(denial)
    }

    pub(crate) async fn authorize_key(
        &self,
        ctx: &RequestContext,
        key: &LoadedKey,
        access: &Access<'_>,
    ) -> Result<()> {
        let action = access.action.as_str();
        // A call made for another service is recorded as its own event (see `services`).
        if access.via_service.is_none() {
            ctx.touch(crate::KEY_RESOURCE, &key.arn);
        }
        // Condition keys matter only to policies with conditions. The hot path of the account root
        // under a condition-free key policy (the default) skips building them.
        let needs_context =
            ctx.caller != m2sec_proto::Caller::Root || key.record.policy.contains("Condition");
        let context = if needs_context {
            condition_keys(ctx, key, access)
        } else {
            m2sec_iam::policy::Context::new()
        };
        let caller = authorizer::principal(ctx);
        let policy = key.policy();
        let ask = |p: &Principal| match policy {
            Some(doc) => doc.evaluate(&Request {
                action,
                resource: &key.arn,
                principal: p,
                context: &context,
            }),
            None => Decision::NotApplicable,
        };
        let by_key_policy = ask(&caller);
        if by_key_policy == Decision::Deny {
            return Err(denial(denied(
                ctx,
                action,
                &key.arn,
                "with an explicit deny in a resource-based policy",
            )));
        }
        let by_identity = self
            .authorizer
            .identity_decision(ctx, action, &key.arn, &context)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "identity policy lookup failed");
                KmsError::Internal("identity policy lookup failed".into())
            })?;
        if by_identity == Decision::Deny {
            return Err(denial(denied(
                ctx,
                action,
                &key.arn,
                "with an explicit deny in an identity-based policy",
            )));
        }
        if by_key_policy == Decision::Allow {
            // A statement naming the caller itself (or `*`) allows on its own; one that allows only
            // by naming the account delegates to IAM. Asking again as the same principal of another
            // account tells them apart: account entries no longer match, the caller's ARN still does.
            let foreign = Principal {
                account: if ctx.account == "999999999999" {
                    "999999999998"
                } else {
                    "999999999999"
                }
                .into(),
                ..caller.clone()
            };
            if ask(&foreign) == Decision::Allow || by_identity == Decision::Allow {
                return Ok(());
            }
        }
        if self
            .grant_allows(ctx, key, action, access.encryption_context)
            .await?
        {
            return Ok(());
        }
        let why = if by_key_policy == Decision::Allow {
            format!("because no identity-based policy allows the {action} action")
        } else {
            format!("because no resource-based policy allows the {action} action")
        };
        Err(denial(denied(ctx, action, &key.arn, &why)))
    }
}

/// The condition keys of a request on a key: AWS's global keys and KMS's own.
fn condition_keys(
    ctx: &RequestContext,
    key: &LoadedKey,
    access: &Access<'_>,
) -> m2sec_iam::policy::Context {
    let mut extra: Vec<(String, Vec<String>)> = vec![
        ("kms:CallerAccount".into(), vec![ctx.account.clone()]),
        ("kms:KeySpec".into(), vec![key.record.key_spec.clone()]),
        ("kms:KeyUsage".into(), vec![key.record.key_usage.clone()]),
        ("kms:KeyOrigin".into(), vec![key.record.origin.clone()]),
        (
            "kms:MultiRegion".into(),
            vec![key.record.attributes.multi_region.is_some().to_string()],
        ),
    ];
    if let Some(m) = &key.record.attributes.multi_region {
        let kind = if m.primary_region == key.record.scope.region {
            "PRIMARY"
        } else {
            "REPLICA"
        };
        extra.push(("kms:MultiRegionKeyType".into(), vec![kind.into()]));
    }
    for (k, v) in &access.request_keys {
        extra.push(((*k).to_string(), vec![v.clone()]));
    }
    if let Some(via) = &access.via_service {
        extra.push(("kms:ViaService".into(), vec![via.clone()]));
    }
    if let Some(enc) = access.encryption_context {
        extra.push((
            "kms:EncryptionContextKeys".into(),
            enc.keys().cloned().collect(),
        ));
        for (k, v) in enc {
            extra.push((format!("kms:EncryptionContext:{k}"), vec![v.clone()]));
        }
    }
    let extra_refs: Vec<(&str, Vec<String>)> =
        extra.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    authorizer::context(ctx, &extra_refs)
}

/// Parses a key policy as stored (checked when it was put).
pub(crate) fn parse_key_policy(text: &str) -> Option<PolicyDocument> {
    PolicyDocument::parse(text, PolicyKind::Resource)
        .map_err(
            |e| tracing::warn!(error = %e, "a stored key policy does not parse; it allows nothing"),
        )
        .ok()
}
