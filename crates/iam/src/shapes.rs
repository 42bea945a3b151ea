//! Typed inputs of the implemented IAM operations, named as on the wire. Inputs were already checked
//! against botocore's model (required members, lengths, patterns), so these only type them. Answers
//! are built by the views in `iam_api.rs` and serialized by the awsQuery layer from the model.
//!
//! The operations that exist once for users and once for roles (`PutUserPolicy`/`PutRolePolicy`, …)
//! share one handler: [`for_user`] and [`for_role`] read the owner's name and the rest of the input
//! into an [`Owner`] and the shared shape.

use m2sec_proto::AwsError;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Tag {
    pub(crate) key: String,
    pub(crate) value: String,
}

pub(crate) fn tag_pairs(tags: Vec<Tag>) -> Vec<(String, String)> {
    tags.into_iter().map(|t| (t.key, t.value)).collect()
}

/// IAM's Marker/MaxItems paging of a listing.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Paging {
    pub(crate) marker: Option<String>,
    pub(crate) max_items: Option<i64>,
}

/// What an operation acts on, for authorization (read before the operation's own shape).
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct Target {
    pub(crate) user_name: Option<String>,
    pub(crate) role_name: Option<String>,
    pub(crate) policy_name: Option<String>,
    pub(crate) policy_arn: Option<String>,
}

/// The user or role a per-principal operation names.
#[derive(Debug, Clone)]
pub(crate) enum Owner {
    User(String),
    Role(String),
}

#[derive(Deserialize)]
struct UserNamed<T> {
    #[serde(rename = "UserName")]
    name: String,
    #[serde(flatten)]
    rest: T,
}

#[derive(Deserialize)]
struct RoleNamed<T> {
    #[serde(rename = "RoleName")]
    name: String,
    #[serde(flatten)]
    rest: T,
}

/// The input of a user's variant of a per-principal operation (`UserName` + `T`).
pub(crate) fn for_user<T: DeserializeOwned>(input: Value) -> Result<(Owner, T), AwsError> {
    let named: UserNamed<T> = m2sec_proto::json::from_value(input)?;
    Ok((Owner::User(named.name), named.rest))
}

/// The input of a role's variant of a per-principal operation (`RoleName` + `T`).
pub(crate) fn for_role<T: DeserializeOwned>(input: Value) -> Result<(Owner, T), AwsError> {
    let named: RoleNamed<T> = m2sec_proto::json::from_value(input)?;
    Ok((Owner::Role(named.name), named.rest))
}

/// Nothing beyond the owner's name (DeleteUser, GetRole, …) or a listing's paging.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Listing {
    #[serde(flatten)]
    pub(crate) paging: Paging,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct UserNameInput {
    pub(crate) user_name: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct RoleNameInput {
    pub(crate) role_name: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct PolicyArnInput {
    pub(crate) policy_arn: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct CreateUserRequest {
    pub(crate) user_name: String,
    pub(crate) path: Option<String>,
    #[serde(default)]
    pub(crate) tags: Vec<Tag>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GetUserRequest {
    pub(crate) user_name: Option<String>,
}

/// ListUsers, ListRoles.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListByPathRequest {
    pub(crate) path_prefix: Option<String>,
    #[serde(flatten)]
    pub(crate) paging: Paging,
}

/// CreateAccessKey (no name: the caller's own keys).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct AccessKeyOwnerInput {
    pub(crate) user_name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListAccessKeysRequest {
    pub(crate) user_name: Option<String>,
    #[serde(flatten)]
    pub(crate) paging: Paging,
}

/// UpdateAccessKey (with `Status`) and DeleteAccessKey.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct AccessKeyRequest {
    pub(crate) user_name: Option<String>,
    pub(crate) access_key_id: String,
    pub(crate) status: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct PutInlinePolicy {
    pub(crate) policy_name: String,
    pub(crate) policy_document: String,
}

/// Get/Delete User or Role Policy.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct InlinePolicyName {
    pub(crate) policy_name: String,
}

/// Attach/Detach User or Role Policy.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct AttachedPolicy {
    pub(crate) policy_arn: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct CreateRoleRequest {
    pub(crate) role_name: String,
    pub(crate) assume_role_policy_document: String,
    pub(crate) path: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) max_session_duration: Option<i64>,
    #[serde(default)]
    pub(crate) tags: Vec<Tag>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct UpdateAssumeRolePolicyRequest {
    pub(crate) role_name: String,
    pub(crate) policy_document: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct CreatePolicyRequest {
    pub(crate) policy_name: String,
    pub(crate) policy_document: String,
    pub(crate) path: Option<String>,
    pub(crate) description: Option<String>,
    #[serde(default)]
    pub(crate) tags: Vec<Tag>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListPoliciesRequest {
    pub(crate) scope: Option<String>,
    pub(crate) only_attached: Option<bool>,
    pub(crate) path_prefix: Option<String>,
    #[serde(flatten)]
    pub(crate) paging: Paging,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct CreatePolicyVersionRequest {
    pub(crate) policy_arn: String,
    pub(crate) policy_document: String,
    pub(crate) set_as_default: Option<bool>,
}

/// Get/Delete PolicyVersion, SetDefaultPolicyVersion.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct PolicyVersionRequest {
    pub(crate) policy_arn: String,
    pub(crate) version_id: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListPolicyVersionsRequest {
    pub(crate) policy_arn: String,
    #[serde(flatten)]
    pub(crate) paging: Paging,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_principal_inputs_carry_their_owner() {
        let (owner, rest): (Owner, InlinePolicyName) = for_role(serde_json::json!({
            "RoleName": "gates", "PolicyName": "read"
        }))
        .unwrap();
        assert!(matches!(owner, Owner::Role(n) if n == "gates"));
        assert_eq!(rest.policy_name, "read");
        let (owner, rest): (Owner, Listing) = for_user(serde_json::json!({
            "UserName": "ana", "MaxItems": 2, "Marker": "4"
        }))
        .unwrap();
        assert!(matches!(owner, Owner::User(n) if n == "ana"));
        assert_eq!(rest.paging.max_items, Some(2));
        assert_eq!(rest.paging.marker.as_deref(), Some("4"));
        let e = for_user::<InlinePolicyName>(serde_json::json!({"PolicyName": "x"})).unwrap_err();
        assert!(e.message.contains("userName"), "{}", e.message);
    }
}
