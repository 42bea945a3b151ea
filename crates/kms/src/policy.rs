//! GetKeyPolicy, PutKeyPolicy, ListKeyPolicies. Key policies are stored and returned as AWS does;
//! they take part in authorization once IAM policy evaluation is in place.

use m2sec_proto::RequestContext;

use crate::access::Access;
use crate::error::{KmsError, Result};
use crate::keys::require_not_pending;
use crate::shapes::*;
use crate::{Aliases, Kms};

const POLICY_NAME: &str = "default";
const MAX_POLICY_BYTES: usize = 32 * 1024;

/// AWS's default key policy: the account root may do everything, which delegates to IAM policies.
pub(crate) fn default_policy(account: &str) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Id": "key-default-1",
        "Statement": [{
            "Sid": "Enable IAM User Permissions",
            "Effect": "Allow",
            "Principal": {"AWS": m2sec_proto::arn::account_root(account)},
            "Action": "kms:*",
            "Resource": "*"
        }]
    })
    .to_string()
}

/// The policy AWS gives the managed key of a service: usable by the account's principals through
/// that service only.
pub(crate) fn aws_managed_policy(account: &str, service: &str, region: &str) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Id": format!("auto-{service}"),
        "Statement": [{
            "Sid": format!("Allow access through {} for all principals in the account that are authorized to use {}", service.to_uppercase(), service.to_uppercase()),
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
            "Resource": "*",
            "Condition": {"StringEquals": {
                "kms:ViaService": format!("{service}.{region}.amazonaws.com"),
                "kms:CallerAccount": account
            }}
        }, {
            // AWS allows only metadata here; m2sec also lets the account decrypt directly (subject to
            // its IAM policies), so a SecureString's ciphertext opens with `aws kms decrypt`.
            "Sid": "Allow direct access to key metadata to the account",
            "Effect": "Allow",
            "Principal": {"AWS": m2sec_proto::arn::account_root(account)},
            "Action": ["kms:Describe*", "kms:Get*", "kms:List*", "kms:Decrypt"],
            "Resource": "*"
        }]
    })
    .to_string()
}

/// A key policy must be a valid resource policy (with principals) of at most 32 KB.
pub(crate) fn checked_policy(policy: String) -> Result<String> {
    if policy.len() > MAX_POLICY_BYTES {
        return Err(KmsError::MalformedPolicyDocument(format!(
            "The key policy is {} bytes; the limit is {MAX_POLICY_BYTES}",
            policy.len()
        )));
    }
    m2sec_iam::policy::PolicyDocument::parse(&policy, m2sec_iam::policy::PolicyKind::Resource)
        .map_err(|e| {
            KmsError::MalformedPolicyDocument(format!("The key policy is not valid: {e}"))
        })?;
    Ok(policy)
}

/// AWS's lockout safety check: unless the caller bypasses it, a new key policy must still let the
/// caller change the key policy later.
pub(crate) fn check_lockout(
    ctx: &RequestContext,
    account: &str,
    policy: &str,
    key_arn: &str,
) -> Result<()> {
    use m2sec_iam::policy::{Decision, PolicyDocument, PolicyKind, Request};
    let Ok(doc) = PolicyDocument::parse(policy, PolicyKind::Resource) else {
        return Ok(());
    };
    let principal = m2sec_iam::authorizer::principal(ctx);
    let context =
        m2sec_iam::authorizer::context(ctx, &[("kms:CallerAccount", vec![account.to_string()])]);
    let request = Request {
        action: "kms:PutKeyPolicy",
        resource: key_arn,
        principal: &principal,
        context: &context,
    };
    if doc.evaluate(&request) != Decision::Allow {
        return Err(KmsError::MalformedPolicyDocument(
            "The new key policy will not allow you to update the key policy in the future.".into(),
        ));
    }
    Ok(())
}

fn check_name(name: Option<&str>) -> Result<()> {
    match name {
        None | Some(POLICY_NAME) => Ok(()),
        Some(other) => Err(KmsError::NotFound(format!(
            "No such policy exists: {other} (a KMS key has one policy, named default)"
        ))),
    }
}

impl Kms {
    pub(crate) async fn get_key_policy(
        &self,
        ctx: &RequestContext,
        req: KeyPolicyRequest,
    ) -> Result<GetKeyPolicyResponse> {
        check_name(req.policy_name.as_deref())?;
        let key = self
            .key_for(ctx, &req.key_id, Aliases::Refused, Access::of(ctx))
            .await?;
        Ok(GetKeyPolicyResponse {
            policy: key.record.policy.clone(),
            policy_name: POLICY_NAME,
        })
    }

    pub(crate) async fn put_key_policy(
        &self,
        ctx: &RequestContext,
        req: KeyPolicyRequest,
    ) -> Result<Empty> {
        check_name(req.policy_name.as_deref())?;
        let key = self
            .key_for(ctx, &req.key_id, Aliases::Refused, Access::of(ctx))
            .await?;
        require_not_pending(&key.record, &key)?;
        let policy = checked_policy(
            req.policy
                .ok_or_else(|| KmsError::Validation("Policy is required".into()))?,
        )?;
        if !req.bypass_policy_lockout_safety_check {
            check_lockout(ctx, &ctx.account, &policy, &key.arn)?;
        }
        self.modify(&key, |k| {
            require_not_pending(k, &key)?;
            k.policy = policy;
            Ok(())
        })
        .await?;
        Ok(Empty {})
    }

    pub(crate) async fn list_key_policies(
        &self,
        ctx: &RequestContext,
        req: ListRequest,
    ) -> Result<ListKeyPoliciesResponse> {
        let id = crate::required_key_id(&req.key_id)?;
        self.key_for(ctx, id, Aliases::Refused, Access::of(ctx))
            .await?;
        Ok(ListKeyPoliciesResponse {
            policy_names: vec![POLICY_NAME],
            truncated: false,
        })
    }
}
