//! IAM users, roles and managed policies as stored: one JSON document each (store kind `iam-user`,
//! `iam-role`, `iam-policy`), read and written whole. IAM is global: the region is `""`.

use std::collections::BTreeMap;

use m2sec_store::{AccessKeyRecord, Document, Store, StoreError};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::{IamError, Result};

pub const USER: &str = "iam-user";
pub const ROLE: &str = "iam-role";
pub const POLICY: &str = "iam-policy";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct User {
    pub name: String,
    pub id: String,
    pub path: String,
    pub arn: String,
    pub created_at: i64,
    #[serde(default)]
    pub tags: Vec<(String, String)>,
    /// Inline policies by name.
    #[serde(default)]
    pub inline: BTreeMap<String, String>,
    /// Attached managed policy ARNs.
    #[serde(default)]
    pub attached: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Role {
    pub name: String,
    pub id: String,
    pub path: String,
    pub arn: String,
    pub created_at: i64,
    pub trust_policy: String,
    #[serde(default)]
    pub description: Option<String>,
    pub max_session_duration: i64,
    #[serde(default)]
    pub tags: Vec<(String, String)>,
    #[serde(default)]
    pub inline: BTreeMap<String, String>,
    #[serde(default)]
    pub attached: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PolicyVersion {
    pub id: String,
    pub document: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ManagedPolicy {
    pub name: String,
    pub id: String,
    pub path: String,
    pub arn: String,
    #[serde(default)]
    pub description: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub default_version: String,
    pub versions: Vec<PolicyVersion>,
    /// How many users and roles it is attached to.
    pub attachments: i64,
    #[serde(default)]
    pub tags: Vec<(String, String)>,
}

impl ManagedPolicy {
    pub fn default_document(&self) -> &str {
        self.versions
            .iter()
            .find(|v| v.id == self.default_version)
            .map(|v| v.document.as_str())
            .unwrap_or("{}")
    }
}

use m2sec_store::now_ms;

pub async fn load<T: DeserializeOwned>(
    store: &dyn Store,
    account: &str,
    kind: &str,
    name: &str,
) -> Result<Option<T>> {
    let Some(doc) = store.get_document(account, "", kind, name).await? else {
        return Ok(None);
    };
    serde_json::from_str(&doc.body)
        .map(Some)
        .map_err(|e| IamError::Internal(format!("stored {kind} {name} is unreadable: {e}")))
}

pub async fn list<T: DeserializeOwned>(
    store: &dyn Store,
    account: &str,
    kind: &str,
) -> Result<Vec<T>> {
    store
        .list_documents(account, "", kind)
        .await?
        .iter()
        .map(|d| {
            serde_json::from_str(&d.body)
                .map_err(|e| IamError::Internal(format!("stored {kind} is unreadable: {e}")))
        })
        .collect()
}

/// `create`: fails with EntityAlreadyExists if the name is taken.
pub async fn save<T: Serialize>(
    store: &dyn Store,
    account: &str,
    kind: &str,
    name: &str,
    value: &T,
    create: bool,
) -> Result<()> {
    let doc = Document {
        account: account.to_string(),
        region: String::new(),
        kind: kind.to_string(),
        name: name.to_string(),
        body: serde_json::to_string(value).expect("entity serializes"),
        updated_at: now_ms(),
    };
    match store.put_document(&doc, create).await {
        Err(StoreError::AlreadyExists) => Err(IamError::EntityAlreadyExists(format!(
            "{} with name {name} already exists.",
            match kind {
                USER => "User",
                ROLE => "Role",
                _ => "A policy",
            }
        ))),
        other => Ok(other?),
    }
}

pub async fn remove(store: &dyn Store, account: &str, kind: &str, name: &str) -> Result<bool> {
    Ok(store.delete_document(account, "", kind, name).await?)
}

/// Whether an access key still signs as the user it was created for. Keys are bound to the user's
/// unique id (`UserId`, AIDA…) as in AWS, not to the name: a user deleted and created again under the
/// same name is another user, and a key of the first, should one outlive it, never signs as the
/// second. The account root's keys belong to no user.
pub async fn key_signs_as_its_user(store: &dyn Store, key: &AccessKeyRecord) -> Result<bool> {
    let Some(name) = &key.user_name else {
        return Ok(true);
    };
    // Only a key whose user was already gone when user ids were recorded (migration 7) has none.
    let Some(user_id) = &key.user_id else {
        return Ok(false);
    };
    let user = load::<User>(store, &key.account, USER, name).await?;
    Ok(user.is_some_and(|u| &u.id == user_id))
}
