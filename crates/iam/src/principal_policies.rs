//! Users' and roles' inline and attached policies.

use serde_json::{json, Value};

use m2sec_proto::RequestContext;

use crate::entities::{self, POLICY, ROLE, USER};
use crate::error::{IamError, Result};
use crate::iam_api::*;
use crate::policy::PolicyKind;

impl Iam {
    pub(crate) async fn run_principal_policies(
        &self,
        ctx: &RequestContext,
        operation: &str,
        input: Input,
    ) -> Result<Value> {
        let account = ctx.account.as_str();
        let store = self.store.as_ref();
        Ok(match operation {
            "PutUserPolicy" | "PutRolePolicy" => {
                let name = required(&input.policy_name, "PolicyName")?.to_string();
                let doc = required(&input.policy_document, "PolicyDocument")?.to_string();
                if operation == "PutUserPolicy" {
                    check_document(&doc, PolicyKind::Identity, 2048)?;
                    let mut user = self
                        .user(account, required(&input.user_name, "UserName")?)
                        .await?;
                    user.inline.insert(name, doc);
                    entities::save(store, account, USER, &user.name.clone(), &user, false).await?;
                } else {
                    check_document(&doc, PolicyKind::Identity, 10240)?;
                    let mut role = self
                        .role(account, required(&input.role_name, "RoleName")?)
                        .await?;
                    role.inline.insert(name, doc);
                    entities::save(store, account, ROLE, &role.name.clone(), &role, false).await?;
                }
                json!({})
            }
            "GetUserPolicy" | "GetRolePolicy" | "DeleteUserPolicy" | "DeleteRolePolicy"
            | "ListUserPolicies" | "ListRolePolicies" => {
                let on_user = operation.contains("User");
                let (owner, mut inline) = if on_user {
                    let u = self
                        .user(account, required(&input.user_name, "UserName")?)
                        .await?;
                    (u.name.clone(), u.inline.clone())
                } else {
                    let r = self
                        .role(account, required(&input.role_name, "RoleName")?)
                        .await?;
                    (r.name.clone(), r.inline.clone())
                };
                if operation.starts_with("List") {
                    let names: Vec<Value> = inline.keys().map(|k| json!(k)).collect();
                    return paged("PolicyNames", names, &input);
                }
                let name = required(&input.policy_name, "PolicyName")?;
                let missing = || {
                    IamError::NoSuchEntity(format!(
                        "The {} policy with name {name} cannot be found.",
                        if on_user { "user" } else { "role" }
                    ))
                };
                if operation.starts_with("Get") {
                    let doc = inline.get(name).ok_or_else(missing)?;
                    let owner_key = if on_user { "UserName" } else { "RoleName" };
                    json!({owner_key: owner, "PolicyName": name, "PolicyDocument": encoded(doc)})
                } else {
                    inline.remove(name).ok_or_else(missing)?;
                    if on_user {
                        let mut u = self.user(account, &owner).await?;
                        u.inline = inline;
                        entities::save(store, account, USER, &owner, &u, false).await?;
                    } else {
                        let mut r = self.role(account, &owner).await?;
                        r.inline = inline;
                        entities::save(store, account, ROLE, &owner, &r, false).await?;
                    }
                    json!({})
                }
            }
            "AttachUserPolicy" | "DetachUserPolicy" | "AttachRolePolicy" | "DetachRolePolicy" => {
                let arn = required(&input.policy_arn, "PolicyArn")?;
                let mut policy = self.policy(account, arn).await?;
                let attach = operation.starts_with("Attach");
                let changed = if operation.contains("User") {
                    let mut u = self
                        .user(account, required(&input.user_name, "UserName")?)
                        .await?;
                    let changed = toggle(&mut u.attached, arn, attach, &policy)?;
                    entities::save(store, account, USER, &u.name.clone(), &u, false).await?;
                    changed
                } else {
                    let mut r = self
                        .role(account, required(&input.role_name, "RoleName")?)
                        .await?;
                    let changed = toggle(&mut r.attached, arn, attach, &policy)?;
                    entities::save(store, account, ROLE, &r.name.clone(), &r, false).await?;
                    changed
                };
                if changed {
                    policy.attachments += if attach { 1 } else { -1 };
                    entities::save(store, account, POLICY, &policy.name.clone(), &policy, false)
                        .await?;
                }
                json!({})
            }
            "ListAttachedUserPolicies" | "ListAttachedRolePolicies" => {
                let attached = if operation.contains("User") {
                    self.user(account, required(&input.user_name, "UserName")?)
                        .await?
                        .attached
                } else {
                    self.role(account, required(&input.role_name, "RoleName")?)
                        .await?
                        .attached
                };
                let items: Vec<Value> = attached
                    .iter()
                    .map(|arn| json!({"PolicyArn": arn, "PolicyName": arn.rsplit('/').next().unwrap_or(arn)}))
                    .collect();
                paged("AttachedPolicies", items, &input)?
            }
            other => {
                return Err(IamError::Unsupported(format!(
                    "IAM operation {other} is not supported by m2sec"
                )))
            }
        })
    }
}
