//! Users' and roles' inline and attached policies: Put/Get/List/Delete User and Role Policy,
//! Attach/Detach/ListAttached User and Role Policies. Each pair shares one handler over an [`Owner`].

use std::collections::BTreeMap;

use serde_json::{json, Value};

use m2sec_proto::RequestContext;

use crate::entities::{self, Role, User, POLICY, ROLE, USER};
use crate::error::{IamError, Result};
use crate::iam_api::*;
use crate::policy::PolicyKind;
use crate::shapes::*;

/// A loaded user or role.
enum Principal {
    User(User),
    Role(Role),
}

impl Principal {
    fn inline(&mut self) -> &mut BTreeMap<String, String> {
        match self {
            Principal::User(u) => &mut u.inline,
            Principal::Role(r) => &mut r.inline,
        }
    }

    fn attached(&mut self) -> &mut Vec<String> {
        match self {
            Principal::User(u) => &mut u.attached,
            Principal::Role(r) => &mut r.attached,
        }
    }
}

impl Owner {
    fn noun(&self) -> &'static str {
        match self {
            Owner::User(_) => "user",
            Owner::Role(_) => "role",
        }
    }
}

impl Iam {
    async fn principal(&self, account: &str, owner: &Owner) -> Result<Principal> {
        Ok(match owner {
            Owner::User(name) => Principal::User(self.user(account, name).await?),
            Owner::Role(name) => Principal::Role(self.role(account, name).await?),
        })
    }

    async fn save_principal(&self, account: &str, principal: &Principal) -> Result<()> {
        let store = self.store.as_ref();
        match principal {
            Principal::User(u) => entities::save(store, account, USER, &u.name, u, false).await,
            Principal::Role(r) => entities::save(store, account, ROLE, &r.name, r, false).await,
        }
    }

    /// PutUserPolicy, PutRolePolicy.
    pub(crate) async fn put_inline_policy(
        &self,
        ctx: &RequestContext,
        (owner, input): (Owner, PutInlinePolicy),
    ) -> Result<Value> {
        let limit = match owner {
            Owner::User(_) => 2048,
            Owner::Role(_) => 10240,
        };
        check_document(&input.policy_document, PolicyKind::Identity, limit)?;
        let mut principal = self.principal(&ctx.account, &owner).await?;
        principal
            .inline()
            .insert(input.policy_name, input.policy_document);
        self.save_principal(&ctx.account, &principal).await?;
        Ok(json!({}))
    }

    /// GetUserPolicy, GetRolePolicy.
    pub(crate) async fn get_inline_policy(
        &self,
        ctx: &RequestContext,
        (owner, input): (Owner, InlinePolicyName),
    ) -> Result<Value> {
        let mut principal = self.principal(&ctx.account, &owner).await?;
        let name = input.policy_name;
        let document = principal
            .inline()
            .get(&name)
            .ok_or_else(|| missing_inline(&owner, &name))?;
        let (owner_key, owner_name) = match &owner {
            Owner::User(n) => ("UserName", n),
            Owner::Role(n) => ("RoleName", n),
        };
        Ok(json!({owner_key: owner_name, "PolicyName": name, "PolicyDocument": encoded(document)}))
    }

    /// DeleteUserPolicy, DeleteRolePolicy.
    pub(crate) async fn delete_inline_policy(
        &self,
        ctx: &RequestContext,
        (owner, input): (Owner, InlinePolicyName),
    ) -> Result<Value> {
        let mut principal = self.principal(&ctx.account, &owner).await?;
        principal
            .inline()
            .remove(&input.policy_name)
            .ok_or_else(|| missing_inline(&owner, &input.policy_name))?;
        self.save_principal(&ctx.account, &principal).await?;
        Ok(json!({}))
    }

    /// ListUserPolicies, ListRolePolicies.
    pub(crate) async fn list_inline_policies(
        &self,
        ctx: &RequestContext,
        (owner, input): (Owner, Listing),
    ) -> Result<Value> {
        let mut principal = self.principal(&ctx.account, &owner).await?;
        let names: Vec<Value> = principal.inline().keys().map(|k| json!(k)).collect();
        paged("PolicyNames", names, &input.paging)
    }

    /// AttachUserPolicy, AttachRolePolicy (`attach`), DetachUserPolicy, DetachRolePolicy.
    pub(crate) async fn attach_policy(
        &self,
        ctx: &RequestContext,
        (owner, input): (Owner, AttachedPolicy),
        attach: bool,
    ) -> Result<Value> {
        let account = ctx.account.as_str();
        let arn = input.policy_arn.as_str();
        let mut policy = self.policy(account, arn).await?;
        let mut principal = self.principal(account, &owner).await?;
        let changed = toggle(principal.attached(), arn, attach, &policy)?;
        self.save_principal(account, &principal).await?;
        if changed {
            policy.attachments += if attach { 1 } else { -1 };
            entities::save(
                self.store.as_ref(),
                account,
                POLICY,
                &policy.name,
                &policy,
                false,
            )
            .await?;
        }
        Ok(json!({}))
    }

    /// ListAttachedUserPolicies, ListAttachedRolePolicies.
    pub(crate) async fn list_attached_policies(
        &self,
        ctx: &RequestContext,
        (owner, input): (Owner, Listing),
    ) -> Result<Value> {
        let mut principal = self.principal(&ctx.account, &owner).await?;
        let items: Vec<Value> = principal
            .attached()
            .iter()
            .map(|arn| json!({"PolicyArn": arn, "PolicyName": arn.rsplit('/').next().unwrap_or(arn)}))
            .collect();
        paged("AttachedPolicies", items, &input.paging)
    }
}

fn missing_inline(owner: &Owner, name: &str) -> IamError {
    IamError::NoSuchEntity(format!(
        "The {} policy with name {name} cannot be found.",
        owner.noun()
    ))
}
