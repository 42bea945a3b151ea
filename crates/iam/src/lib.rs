//! Identities and policies: the IAM API ([`iam_api`]: users, access keys, roles, inline and managed
//! policies), STS ([`sts`]: AssumeRole and sealed session tokens), and authorization ([`authorizer`]
//! over the policy evaluator in [`policy`]) that every service asks before it acts. The IAM API's
//! handlers are grouped by resource area:
//!
//! | file | operations |
//! |------|------------|
//! | `users.rs` | CreateUser, GetUser, ListUsers, DeleteUser, CreateAccessKey, ListAccessKeys, UpdateAccessKey, DeleteAccessKey |
//! | `principal_policies.rs` | Put/Get/List/Delete User and Role Policy, Attach/Detach/ListAttached User and Role Policies |
//! | `roles.rs` | CreateRole, GetRole, ListRoles, DeleteRole, UpdateAssumeRolePolicy |
//! | `managed_policies.rs` | CreatePolicy, GetPolicy, DeletePolicy, ListPolicies, Create/Get/List/Delete PolicyVersion, SetDefaultPolicyVersion |
//!
//! `iam_api.rs` holds the service, its dispatch table and the views of its answers; `shapes.rs` the
//! typed inputs;
//! `operations.rs` the operation list checked against the model.

pub mod authorizer;
mod entities;
pub mod error;
pub mod generation;
pub mod iam_api;
mod managed_policies;
pub mod operations;
pub mod policy;
mod principal_policies;
mod roles;
mod shapes;
pub mod sts;
pub mod sts_operations;
mod users;

pub use authorizer::Authorizer;
pub use entities::{key_signs_as_its_user, Role, User};
pub use generation::IamGeneration;
