//! Managed policies and their versions.

use serde_json::{json, Value};

use m2sec_proto::RequestContext;
use m2sec_store::now_ms;

use crate::entities::{self, ManagedPolicy, PolicyVersion, POLICY};
use crate::error::{IamError, Result};
use crate::iam_api::*;
use crate::policy::PolicyKind;

impl Iam {
    pub(crate) async fn run_managed_policies(
        &self,
        ctx: &RequestContext,
        operation: &str,
        input: Input,
    ) -> Result<Value> {
        let account = ctx.account.as_str();
        let store = self.store.as_ref();
        Ok(match operation {
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
                paged("Policies", items, &input)?
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
                paged("Versions", items, &input)?
            }
            other => {
                return Err(IamError::Unsupported(format!(
                    "IAM operation {other} is not supported by m2sec"
                )))
            }
        })
    }
}
