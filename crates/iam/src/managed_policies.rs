//! Managed policies and their versions: CreatePolicy, GetPolicy, DeletePolicy, ListPolicies,
//! CreatePolicyVersion, GetPolicyVersion, ListPolicyVersions, DeletePolicyVersion,
//! SetDefaultPolicyVersion.

use serde_json::{json, Value};

use m2sec_proto::RequestContext;
use m2sec_store::now_ms;

use crate::entities::{self, ManagedPolicy, PolicyVersion, POLICY};
use crate::error::{IamError, Result};
use crate::iam_api::*;
use crate::policy::PolicyKind;
use crate::shapes::*;

/// What SetDefaultPolicyVersion, DeletePolicyVersion and GetPolicyVersion do with the version.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum VersionAction {
    Get,
    Delete,
    SetDefault,
}

impl Iam {
    async fn save_policy(&self, account: &str, policy: &ManagedPolicy, create: bool) -> Result<()> {
        entities::save(
            self.store.as_ref(),
            account,
            POLICY,
            &policy.name,
            policy,
            create,
        )
        .await
    }

    /// CreatePolicy.
    pub(crate) async fn create_policy(
        &self,
        ctx: &RequestContext,
        input: CreatePolicyRequest,
    ) -> Result<Value> {
        let account = ctx.account.as_str();
        let name = input.policy_name;
        check_document(&input.policy_document, PolicyKind::Identity, 6144)?;
        let path = check_path(&input.path)?;
        let now = now_ms();
        let policy = ManagedPolicy {
            id: unique_id("ANPA", 17),
            arn: m2sec_proto::arn::iam(account, &format!("policy{path}{name}")),
            name,
            path,
            description: input.description,
            created_at: now,
            updated_at: now,
            default_version: "v1".into(),
            versions: vec![PolicyVersion {
                id: "v1".into(),
                document: input.policy_document,
                created_at: now,
            }],
            attachments: 0,
            tags: tag_pairs(input.tags),
        };
        self.save_policy(account, &policy, true).await?;
        Ok(json!({"Policy": policy_json(&policy)}))
    }

    /// GetPolicy.
    pub(crate) async fn get_policy(
        &self,
        ctx: &RequestContext,
        input: PolicyArnInput,
    ) -> Result<Value> {
        Ok(json!({"Policy": policy_json(&self.policy(&ctx.account, &input.policy_arn).await?)}))
    }

    /// DeletePolicy: only once it is attached to nothing.
    pub(crate) async fn delete_policy(
        &self,
        ctx: &RequestContext,
        input: PolicyArnInput,
    ) -> Result<Value> {
        let policy = self.policy(&ctx.account, &input.policy_arn).await?;
        if policy.attachments > 0 {
            return Err(IamError::DeleteConflict(
                "Cannot delete a policy attached to entities.".into(),
            ));
        }
        entities::remove(self.store.as_ref(), &ctx.account, POLICY, &policy.name).await?;
        Ok(json!({}))
    }

    /// ListPolicies: only customer managed policies exist here; Scope=AWS lists none.
    pub(crate) async fn list_policies(
        &self,
        ctx: &RequestContext,
        input: ListPoliciesRequest,
    ) -> Result<Value> {
        let prefix = input.path_prefix.unwrap_or_else(|| "/".into());
        let policies: Vec<ManagedPolicy> = if input.scope.as_deref() == Some("AWS") {
            Vec::new()
        } else {
            entities::list(self.store.as_ref(), &ctx.account, POLICY).await?
        };
        let items: Vec<Value> = policies
            .iter()
            .filter(|p| {
                p.path.starts_with(&prefix)
                    && (input.only_attached != Some(true) || p.attachments > 0)
            })
            .map(policy_json)
            .collect();
        paged("Policies", items, &input.paging)
    }

    /// CreatePolicyVersion.
    pub(crate) async fn create_policy_version(
        &self,
        ctx: &RequestContext,
        input: CreatePolicyVersionRequest,
    ) -> Result<Value> {
        let mut policy = self.policy(&ctx.account, &input.policy_arn).await?;
        check_document(&input.policy_document, PolicyKind::Identity, 6144)?;
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
            document: input.policy_document,
            created_at: now_ms(),
        };
        if input.set_as_default == Some(true) {
            policy.default_version = version.id.clone();
        }
        policy.updated_at = version.created_at;
        policy.versions.push(version.clone());
        self.save_policy(&ctx.account, &policy, false).await?;
        Ok(json!({"PolicyVersion": version_json(&policy, &version)}))
    }

    /// GetPolicyVersion, DeletePolicyVersion, SetDefaultPolicyVersion.
    pub(crate) async fn policy_version(
        &self,
        ctx: &RequestContext,
        input: PolicyVersionRequest,
        action: VersionAction,
    ) -> Result<Value> {
        let mut policy = self.policy(&ctx.account, &input.policy_arn).await?;
        let id = input.version_id.as_str();
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
        match action {
            VersionAction::Get => {
                return Ok(json!({"PolicyVersion": version_json(&policy, &version)}))
            }
            VersionAction::Delete if policy.default_version == id => {
                return Err(IamError::DeleteConflict(
                    "Cannot delete the default version of a policy.".into(),
                ))
            }
            VersionAction::Delete => policy.versions.retain(|v| v.id != id),
            VersionAction::SetDefault => policy.default_version = id.into(),
        }
        self.save_policy(&ctx.account, &policy, false).await?;
        Ok(json!({}))
    }

    /// ListPolicyVersions, newest first.
    pub(crate) async fn list_policy_versions(
        &self,
        ctx: &RequestContext,
        input: ListPolicyVersionsRequest,
    ) -> Result<Value> {
        let policy = self.policy(&ctx.account, &input.policy_arn).await?;
        let items: Vec<Value> = policy
            .versions
            .iter()
            .rev()
            .map(|v| version_json(&policy, v))
            .collect();
        paged("Versions", items, &input.paging)
    }
}
