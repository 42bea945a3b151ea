//! Roles.

use serde_json::{json, Value};

use m2sec_proto::RequestContext;
use m2sec_store::now_ms;

use crate::entities::{self, Role, ROLE};
use crate::error::{IamError, Result};
use crate::iam_api::*;
use crate::policy::PolicyKind;

impl Iam {
    pub(crate) async fn run_roles(
        &self,
        ctx: &RequestContext,
        operation: &str,
        input: Input,
    ) -> Result<Value> {
        let account = ctx.account.as_str();
        let store = self.store.as_ref();
        Ok(match operation {
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
                paged("Roles", roles, &input)?
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
            other => {
                return Err(IamError::Unsupported(format!(
                    "IAM operation {other} is not supported by m2sec"
                )))
            }
        })
    }
}
