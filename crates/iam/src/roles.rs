//! Roles: CreateRole, GetRole, ListRoles, DeleteRole, UpdateAssumeRolePolicy.

use serde_json::{json, Value};

use m2sec_proto::RequestContext;
use m2sec_store::now_ms;

use crate::entities::{self, Role, ROLE};
use crate::error::{IamError, Result};
use crate::iam_api::*;
use crate::policy::PolicyKind;
use crate::shapes::*;

impl Iam {
    /// CreateRole.
    pub(crate) async fn create_role(
        &self,
        ctx: &RequestContext,
        input: CreateRoleRequest,
    ) -> Result<Value> {
        let account = ctx.account.as_str();
        let name = input.role_name;
        let trust = input.assume_role_policy_document;
        check_document(&trust, PolicyKind::Trust, 2048)?;
        let path = check_path(&input.path)?;
        let max = input.max_session_duration.unwrap_or(3600);
        if !(3600..=43200).contains(&max) {
            return Err(IamError::InvalidInput(
                "MaxSessionDuration must be between 3600 and 43200 seconds".into(),
            ));
        }
        let role = Role {
            id: unique_id("AROA", 17),
            arn: m2sec_proto::arn::iam(account, &format!("role{path}{name}")),
            name,
            path,
            created_at: now_ms(),
            trust_policy: trust,
            description: input.description,
            max_session_duration: max,
            tags: tag_pairs(input.tags),
            inline: Default::default(),
            attached: Vec::new(),
        };
        entities::save(self.store.as_ref(), account, ROLE, &role.name, &role, true).await?;
        Ok(json!({"Role": role_json(&role)}))
    }

    /// GetRole.
    pub(crate) async fn get_role(
        &self,
        ctx: &RequestContext,
        input: RoleNameInput,
    ) -> Result<Value> {
        Ok(json!({"Role": role_json(&self.role(&ctx.account, &input.role_name).await?)}))
    }

    /// ListRoles.
    pub(crate) async fn list_roles(
        &self,
        ctx: &RequestContext,
        input: ListByPathRequest,
    ) -> Result<Value> {
        let prefix = input.path_prefix.unwrap_or_else(|| "/".into());
        let roles: Vec<Role> = entities::list(self.store.as_ref(), &ctx.account, ROLE).await?;
        let roles: Vec<Value> = roles
            .iter()
            .filter(|r| r.path.starts_with(&prefix))
            .map(role_json)
            .collect();
        paged("Roles", roles, &input.paging)
    }

    /// DeleteRole: only once it has no policies.
    pub(crate) async fn delete_role(
        &self,
        ctx: &RequestContext,
        input: RoleNameInput,
    ) -> Result<Value> {
        let role = self.role(&ctx.account, &input.role_name).await?;
        if !role.inline.is_empty() || !role.attached.is_empty() {
            return Err(IamError::DeleteConflict(
                "Cannot delete entity, must delete policies first.".into(),
            ));
        }
        entities::remove(self.store.as_ref(), &ctx.account, ROLE, &role.name).await?;
        Ok(json!({}))
    }

    /// UpdateAssumeRolePolicy.
    pub(crate) async fn update_assume_role_policy(
        &self,
        ctx: &RequestContext,
        input: UpdateAssumeRolePolicyRequest,
    ) -> Result<Value> {
        check_document(&input.policy_document, PolicyKind::Trust, 2048)?;
        let mut role = self.role(&ctx.account, &input.role_name).await?;
        role.trust_policy = input.policy_document;
        entities::save(
            self.store.as_ref(),
            &ctx.account,
            ROLE,
            &role.name,
            &role,
            false,
        )
        .await?;
        Ok(json!({}))
    }
}
