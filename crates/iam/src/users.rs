//! Users and their access keys: CreateUser, GetUser, ListUsers, DeleteUser, CreateAccessKey,
//! ListAccessKeys, UpdateAccessKey, DeleteAccessKey.

use serde_json::{json, Value};

use m2sec_proto::{Caller, RequestContext};
use m2sec_store::{now_ms, AccessKeyRecord};

use crate::entities::{self, User, USER};
use crate::error::{IamError, Result};
use crate::iam_api::*;
use crate::shapes::*;

impl Iam {
    /// CreateUser.
    pub(crate) async fn create_user(
        &self,
        ctx: &RequestContext,
        input: CreateUserRequest,
    ) -> Result<Value> {
        let account = ctx.account.as_str();
        let name = input.user_name;
        let path = check_path(&input.path)?;
        let user = User {
            id: unique_id("AIDA", 17),
            arn: m2sec_proto::arn::iam(account, &format!("user{path}{name}")),
            name,
            path,
            created_at: now_ms(),
            tags: tag_pairs(input.tags),
            inline: Default::default(),
            attached: Vec::new(),
        };
        entities::save(self.store.as_ref(), account, USER, &user.name, &user, true).await?;
        Ok(json!({"User": user_json(&user)}))
    }

    /// GetUser: the named user, else the caller.
    pub(crate) async fn get_user(
        &self,
        ctx: &RequestContext,
        input: GetUserRequest,
    ) -> Result<Value> {
        let account = ctx.account.as_str();
        let name = match (&input.user_name, &ctx.caller) {
            (Some(name), _) | (None, Caller::User { name }) => name,
            (None, Caller::Root) => {
                return Ok(
                    json!({"User": {"Path": "/", "UserName": "root", "UserId": account, "Arn": ctx.principal_arn, "CreateDate": iso(0)}}),
                )
            }
            (None, Caller::Role { .. }) => {
                return Err(IamError::InvalidInput(
                    "Must specify userName when calling with non-User credentials".into(),
                ))
            }
        };
        Ok(json!({"User": user_json(&self.user(account, name).await?)}))
    }

    /// ListUsers.
    pub(crate) async fn list_users(
        &self,
        ctx: &RequestContext,
        input: ListByPathRequest,
    ) -> Result<Value> {
        let prefix = input.path_prefix.unwrap_or_else(|| "/".into());
        let users: Vec<User> = entities::list(self.store.as_ref(), &ctx.account, USER).await?;
        let users: Vec<Value> = users
            .iter()
            .filter(|u| u.path.starts_with(&prefix))
            .map(user_json)
            .collect();
        paged("Users", users, &input.paging)
    }

    /// DeleteUser: only once it has no policies and no access keys.
    pub(crate) async fn delete_user(
        &self,
        ctx: &RequestContext,
        input: UserNameInput,
    ) -> Result<Value> {
        let account = ctx.account.as_str();
        let store = self.store.as_ref();
        let user = self.user(account, &input.user_name).await?;
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
        Ok(json!({}))
    }

    /// CreateAccessKey: for the named user, else the caller (root for the admin key).
    pub(crate) async fn create_access_key(
        &self,
        ctx: &RequestContext,
        input: AccessKeyOwnerInput,
    ) -> Result<Value> {
        let account = ctx.account.as_str();
        let store = self.store.as_ref();
        let owner = Self::key_owner(ctx, input.user_name);
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
        Ok(
            json!({"AccessKey": {"UserName": owner.unwrap_or_else(|| "root".into()), "AccessKeyId": id,
            "Status": "Active", "SecretAccessKey": secret.as_str(), "CreateDate": iso(created_at)}}),
        )
    }

    /// ListAccessKeys.
    pub(crate) async fn list_access_keys(
        &self,
        ctx: &RequestContext,
        input: ListAccessKeysRequest,
    ) -> Result<Value> {
        let account = ctx.account.as_str();
        let owner = Self::key_owner(ctx, input.user_name);
        if let Some(name) = &owner {
            self.user(account, name).await?;
        }
        let user_name = owner.clone().unwrap_or_else(|| "root".into());
        let keys: Vec<Value> = self
            .store
            .list_access_keys(account, owner.as_deref())
            .await?
            .iter()
            .map(|k| json!({"UserName": user_name, "AccessKeyId": k.access_key_id, "Status": k.status, "CreateDate": iso(k.created_at)}))
            .collect();
        paged("AccessKeyMetadata", keys, &input.paging)
    }

    /// UpdateAccessKey and DeleteAccessKey (`status` is None): the key must be the named user's (or
    /// the caller's).
    pub(crate) async fn change_access_key(
        &self,
        ctx: &RequestContext,
        input: AccessKeyRequest,
        delete: bool,
    ) -> Result<Value> {
        let account = ctx.account.as_str();
        let store = self.store.as_ref();
        let id = input.access_key_id.as_str();
        let owner = Self::key_owner(ctx, input.user_name.clone());
        let key = store
            .get_access_key(id)
            .await?
            .filter(|k| k.account == account && k.user_name == owner)
            .ok_or_else(|| {
                IamError::NoSuchEntity(format!("The Access Key with id {id} cannot be found."))
            })?;
        if delete {
            store.delete_access_key(&key.access_key_id).await?;
        } else {
            let status = input
                .status
                .as_deref()
                .ok_or_else(|| IamError::InvalidInput("Status is required".into()))?;
            store
                .set_access_key_status(&key.access_key_id, status)
                .await?;
        }
        Ok(json!({}))
    }
}
