//! Users and their access keys.

use serde_json::{json, Value};

use m2sec_proto::{Caller, RequestContext};
use m2sec_store::{now_ms, AccessKeyRecord};

use crate::entities::{self, User, USER};
use crate::error::{IamError, Result};
use crate::iam_api::*;

impl Iam {
    pub(crate) async fn run_users(
        &self,
        ctx: &RequestContext,
        operation: &str,
        input: Input,
    ) -> Result<Value> {
        let account = ctx.account.as_str();
        let store = self.store.as_ref();
        Ok(match operation {
            "CreateUser" => {
                let name = required(&input.user_name, "UserName")?;
                let path = check_path(&input.path)?;
                let user = User {
                    name: name.into(),
                    id: unique_id("AIDA", 17),
                    arn: m2sec_proto::arn::iam(account, &format!("user{path}{name}")),
                    path,
                    created_at: now_ms(),
                    tags: input.tags.into_iter().map(|t| (t.key, t.value)).collect(),
                    inline: Default::default(),
                    attached: Vec::new(),
                };
                entities::save(store, account, USER, name, &user, true).await?;
                json!({"User": user_json(&user)})
            }
            "GetUser" => match &input.user_name {
                Some(name) => json!({"User": user_json(&self.user(account, name).await?)}),
                None => match &ctx.caller {
                    Caller::User { name } => {
                        json!({"User": user_json(&self.user(account, name).await?)})
                    }
                    Caller::Root => {
                        json!({"User": {"Path": "/", "UserName": "root", "UserId": account, "Arn": ctx.principal_arn, "CreateDate": iso(0)}})
                    }
                    Caller::Role { .. } => {
                        return Err(IamError::InvalidInput(
                            "Must specify userName when calling with non-User credentials".into(),
                        ))
                    }
                },
            },
            "ListUsers" => {
                let prefix = input.path_prefix.clone().unwrap_or_else(|| "/".into());
                let users: Vec<User> = entities::list(store, account, USER).await?;
                let users: Vec<Value> = users
                    .iter()
                    .filter(|u| u.path.starts_with(&prefix))
                    .map(user_json)
                    .collect();
                paged("Users", users, &input)?
            }
            "DeleteUser" => {
                let user = self
                    .user(account, required(&input.user_name, "UserName")?)
                    .await?;
                if !user.inline.is_empty() || !user.attached.is_empty() {
                    return Err(IamError::DeleteConflict(
                        "Cannot delete entity, must delete policies first.".into(),
                    ));
                }
                if !store
                    .list_access_keys(account, Some(&user.name))
                    .await?
                    .is_empty()
                {
                    return Err(IamError::DeleteConflict(
                        "Cannot delete entity, must delete access keys first.".into(),
                    ));
                }
                entities::remove(store, account, USER, &user.name).await?;
                json!({})
            }
            "CreateAccessKey" => {
                let owner = Self::key_owner(ctx, &input);
                let (principal_arn, user_id) = match &owner {
                    Some(name) => {
                        let user = self.user(account, name).await?;
                        (user.arn, Some(user.id))
                    }
                    None => (m2sec_proto::arn::account_root(account), None),
                };
                if owner.is_some()
                    && store
                        .list_access_keys(account, owner.as_deref())
                        .await?
                        .len()
                        >= MAX_KEYS_PER_USER
                {
                    return Err(IamError::LimitExceeded(format!(
                        "Cannot exceed quota for AccessKeysPerUser: {MAX_KEYS_PER_USER}"
                    )));
                }
                let id = unique_id("AKIA", 16);
                let secret = new_secret();
                let created_at = now_ms();
                store
                    .create_access_key(&AccessKeyRecord {
                        access_key_id: id.clone(),
                        account: account.into(),
                        user_name: owner.clone(),
                        user_id,
                        principal_arn,
                        wrapped_secret: self.root.wrap(secret.as_bytes(), &secret_aad(&id)),
                        status: "Active".into(),
                        created_at,
                    })
                    .await?;
                json!({"AccessKey": {"UserName": owner.unwrap_or_else(|| "root".into()), "AccessKeyId": id,
                    "Status": "Active", "SecretAccessKey": secret.as_str(), "CreateDate": iso(created_at)}})
            }
            "ListAccessKeys" => {
                let owner = Self::key_owner(ctx, &input);
                if let Some(name) = &owner {
                    self.user(account, name).await?;
                }
                let keys: Vec<Value> = store
                    .list_access_keys(account, owner.as_deref())
                    .await?
                    .iter()
                    .map(|k| json!({"UserName": owner.clone().unwrap_or_else(|| "root".into()), "AccessKeyId": k.access_key_id, "Status": k.status, "CreateDate": iso(k.created_at)}))
                    .collect();
                paged("AccessKeyMetadata", keys, &input)?
            }
            "UpdateAccessKey" | "DeleteAccessKey" => {
                let id = required(&input.access_key_id, "AccessKeyId")?;
                let owner = Self::key_owner(ctx, &input);
                let key = store
                    .get_access_key(id)
                    .await?
                    .filter(|k| k.account == account && k.user_name == owner)
                    .ok_or_else(|| {
                        IamError::NoSuchEntity(format!(
                            "The Access Key with id {id} cannot be found."
                        ))
                    })?;
                if operation == "UpdateAccessKey" {
                    let status = required(&input.status, "Status")?;
                    store
                        .set_access_key_status(&key.access_key_id, status)
                        .await?;
                } else {
                    store.delete_access_key(&key.access_key_id).await?;
                }
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
