//! Identities and policies: the IAM API ([`iam_api`]: users, access keys, roles, inline and managed
//! policies), STS ([`sts`]: AssumeRole and sealed session tokens), and authorization ([`authorizer`]
//! over the policy evaluator in [`policy`]) that every service asks before it acts.

pub mod authorizer;
mod entities;
pub mod error;
pub mod generation;
pub mod iam_api;
pub mod policy;
pub mod sts;

pub use authorizer::Authorizer;
pub use entities::{key_signs_as_its_user, Role, User};
pub use generation::IamGeneration;
