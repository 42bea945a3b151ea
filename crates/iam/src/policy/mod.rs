//! IAM policy documents and their evaluation, as the IAM User Guide describes them.
//!
//! A policy is parsed once ([`PolicyDocument::parse`]) for the place it is attached to ([`PolicyKind`]),
//! then asked about each [`Request`] ([`PolicyDocument::evaluate`]). Within one document, and across the
//! documents a caller gathers ([`combine`]), an explicit `Deny` wins over any `Allow`, and no matching
//! statement at all is an implicit deny ([`Decision::NotApplicable`]).
//!
//! How the pieces of a statement match:
//! - `Action` / `NotAction`: case-insensitive, with `*` and `?` (`kms:*`, `kms:Get*`).
//! - `Resource` / `NotResource`: case-sensitive ARN patterns with `*` and `?`; policy variables
//!   (`${aws:username}`) are replaced from the request context in `"Version": "2012-10-17"` documents.
//! - `Principal` / `NotPrincipal` (resource and trust policies only): `*`, account ids and
//!   `arn:aws:iam::ACCOUNT:root` (every principal of the account), user and assumed-role session ARNs,
//!   role ARNs (every session of the role), service principals.
//! - `Condition`: every operator of the IAM reference, with `…IfExists` and `ForAllValues:` /
//!   `ForAnyValue:`; see `conditions.rs` for the exact rules on missing and multivalued keys.
//!
//! Where this module is knowingly narrower than AWS:
//! - `Federated` and `CanonicalUser` principals are accepted in documents but never match, because m2sec
//!   has no web-identity, SAML or S3 canonical users.
//! - Size limits are not checked here: each caller knows its own limit (IAM inline policies, managed
//!   policies, KMS key policies and trust policies all differ).

mod conditions;
mod document;
mod evaluate;
mod pattern;

use std::borrow::Cow;
use std::collections::HashMap;

pub use document::{Effect, PolicyDocument, Statement};

/// Where a policy is attached, which decides which elements it must and must not have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyKind {
    /// Attached to a user, role or group (inline or managed): no `Principal`, `Resource` required.
    Identity,
    /// Attached to a resource, such as a KMS key policy: `Principal` or `NotPrincipal` required.
    Resource,
    /// A role's trust policy (who may assume it): `Principal` or `NotPrincipal` required, no `Resource`.
    Trust,
}

/// Why a policy document was rejected. The message is shown to the user as is (IAM's
/// `MalformedPolicyDocument`, KMS's `MalformedPolicyDocumentException`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PolicyError(pub String);

/// Who makes a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The caller's own ARN: `arn:aws:iam::A:root`, `arn:aws:iam::A:user/NAME`,
    /// `arn:aws:sts::A:assumed-role/ROLE/SESSION`, or the service principal's name.
    pub arn: String,
    /// The 12-digit account the caller belongs to (empty for service principals).
    pub account: String,
    pub kind: PrincipalKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalKind {
    /// The account itself (the admin key from first start).
    Root,
    User,
    /// A session of a role; `role_arn` is the role's full ARN, path included
    /// (`arn:aws:iam::A:role/PATH/NAME`), which a session ARN does not carry.
    AssumedRole {
        role_arn: String,
    },
    /// An AWS service acting on its own behalf, such as `kms.amazonaws.com`.
    Service(String),
}

/// The condition keys of a request and their values. Key names are case-insensitive, as in AWS; every
/// key may hold several values (`kms:EncryptionContextKeys`). A key stored with no value is treated as
/// absent by conditions, as AWS treats an empty multivalued key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    /// By lowercased key; the keys every request has are borrowed, not copied.
    values: HashMap<Cow<'static, str>, Vec<String>>,
}

impl Context {
    pub fn new() -> Self {
        Self::default()
    }

    /// Room for `n` keys.
    pub fn with_capacity(n: usize) -> Self {
        Context {
            values: HashMap::with_capacity(n),
        }
    }

    /// Sets `key` to the single `value`, replacing what it held.
    pub fn insert(&mut self, key: &str, value: impl Into<String>) {
        self.values
            .insert(Cow::Owned(key.to_ascii_lowercase()), vec![value.into()]);
    }

    /// [`Context::insert`] for a key written in lowercase already (`aws:sourceip`): the key is
    /// kept as it is, not copied.
    pub fn insert_lowercase(&mut self, key: &'static str, value: impl Into<String>) {
        debug_assert_eq!(key, key.to_ascii_lowercase(), "{key} is not lowercase");
        self.values.insert(Cow::Borrowed(key), vec![value.into()]);
    }

    /// Sets `key` to all of `values`, replacing what it held.
    pub fn insert_all(&mut self, key: &str, values: Vec<String>) {
        self.values
            .insert(Cow::Owned(key.to_ascii_lowercase()), values);
    }

    pub fn get(&self, key: &str) -> Option<&[String]> {
        self.get_lowercase(&key.to_ascii_lowercase())
    }

    /// Lookup by a key already lowercased (condition keys are lowercased once, at parse time).
    pub(crate) fn get_lowercase(&self, key: &str) -> Option<&[String]> {
        self.values.get(key).map(Vec::as_slice)
    }
}

/// What is being asked: may `principal` perform `action` on `resource`, given `context`?
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// `service:Operation`, for example `kms:Decrypt`; compared case-insensitively.
    pub action: &'a str,
    /// The resource ARN, or `*` for actions that take no resource (such as `kms:CreateKey`).
    pub resource: &'a str,
    pub principal: &'a Principal,
    pub context: &'a Context,
}

/// The answer of one policy, or of several combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// An explicit `Deny`: nothing else can allow the request.
    Deny,
    /// No statement applies: an implicit deny, which another policy may still turn into an allow.
    NotApplicable,
}

/// Combines the decisions of several policies: any `Deny` gives `Deny`; otherwise any `Allow` gives
/// `Allow`; otherwise `NotApplicable`.
pub fn combine(decisions: impl IntoIterator<Item = Decision>) -> Decision {
    let mut combined = Decision::NotApplicable;
    for decision in decisions {
        match decision {
            Decision::Deny => return Decision::Deny,
            Decision::Allow => combined = Decision::Allow,
            Decision::NotApplicable => {}
        }
    }
    combined
}
