//! Authorization: may this caller perform this action on this resource? Identity-based policies
//! (inline and attached, of the user or of the assumed role) are loaded once per principal and cached;
//! an IAM change on this node makes the cache stale at once (see [`crate::generation`]), and entries
//! expire after a TTL so other nodes' changes are seen too.
//!
//! Resource-based decisions (KMS key policies, grants, role trust policies) are made by their services
//! with [`Authorizer::identity_decision`] as one input, following AWS's evaluation logic.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use m2sec_proto::{AwsError, Caller, RequestContext};
use m2sec_store::Store;

use crate::entities::{self, ManagedPolicy, Role, User, POLICY, ROLE, USER};
use crate::generation::{IamGeneration, Stamp};
use crate::policy::{
    combine, Context, Decision, PolicyDocument, PolicyKind, Principal, PrincipalKind, Request,
};

/// A principal's identity-based policies, parsed, with when they were loaded.
type CachedPolicies = (Arc<Vec<PolicyDocument>>, Stamp);

pub struct Authorizer {
    store: Arc<dyn Store>,
    ttl: Duration,
    generation: Arc<IamGeneration>,
    cache: RwLock<HashMap<String, CachedPolicies>>,
}

/// The policy principal of a request.
pub fn principal(ctx: &RequestContext) -> Principal {
    Principal {
        arn: ctx.principal_arn.clone(),
        account: ctx.account.clone(),
        kind: match &ctx.caller {
            Caller::Root => PrincipalKind::Root,
            Caller::User { .. } => PrincipalKind::User,
            Caller::Role { role_arn, .. } => PrincipalKind::AssumedRole {
                role_arn: role_arn.clone(),
            },
        },
    }
}

/// The global condition keys AWS sets on every request, plus the service's own (`extra`).
pub fn context(ctx: &RequestContext, extra: &[(&str, Vec<String>)]) -> Context {
    // The keys below, and room for the service's own.
    let mut c = Context::with_capacity(8 + extra.len());
    use chrono::{Datelike, Timelike};
    let now = chrono::Utc::now();
    c.insert_lowercase(
        "aws:currenttime",
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            now.year(),
            now.month(),
            now.day(),
            now.hour(),
            now.minute(),
            now.second()
        ),
    );
    c.insert_lowercase("aws:epochtime", now.timestamp().to_string());
    c.insert_lowercase("aws:principalaccount", ctx.account.clone());
    c.insert_lowercase("aws:securetransport", "false");
    match &ctx.caller {
        Caller::Root => {
            c.insert_lowercase("aws:principalarn", ctx.principal_arn.clone());
            c.insert_lowercase("aws:principaltype", "Account");
            c.insert_lowercase("aws:userid", ctx.account.clone());
        }
        Caller::User { name } => {
            c.insert_lowercase("aws:principalarn", ctx.principal_arn.clone());
            c.insert_lowercase("aws:principaltype", "User");
            c.insert_lowercase("aws:username", name.clone());
        }
        Caller::Role {
            role_arn,
            session_name,
            ..
        } => {
            // For a role session AWS sets aws:PrincipalArn to the role, not the session.
            c.insert_lowercase("aws:principalarn", role_arn.clone());
            c.insert_lowercase("aws:principaltype", "AssumedRole");
            c.insert_lowercase("aws:rolesessionname", session_name.clone());
        }
    }
    if let Some(ip) = &ctx.source_ip {
        c.insert_lowercase("aws:sourceip", ip.clone());
    }
    for (key, values) in extra {
        c.insert_all(key, values.clone());
    }
    c
}

/// AWS's denial, in the form its services send it. awsQuery services (IAM, STS) name it `AccessDenied`
/// (403); the JSON ones `AccessDeniedException` (400).
pub fn denied(ctx: &RequestContext, action: &str, resource: &str, why: &str) -> AwsError {
    let message = format!(
        "User: {} is not authorized to perform: {action} on resource: {resource} {why}",
        ctx.principal_arn
    );
    if action.starts_with("iam:") || action.starts_with("sts:") {
        AwsError::new("AccessDenied", 403, message)
    } else {
        AwsError::new("AccessDeniedException", 400, message)
    }
}

fn parse_stored(text: &str) -> Option<PolicyDocument> {
    match PolicyDocument::parse(text, PolicyKind::Identity) {
        Ok(doc) => Some(doc),
        Err(e) => {
            tracing::warn!(error = %e, "a stored policy no longer parses; it grants nothing");
            None
        }
    }
}

impl Authorizer {
    /// `generation` is the one the IAM API advances on every change.
    pub fn new(store: Arc<dyn Store>, ttl: Duration, generation: Arc<IamGeneration>) -> Self {
        Authorizer {
            store,
            ttl,
            generation,
            cache: RwLock::new(HashMap::new()),
        }
    }

    async fn load_policies(&self, ctx: &RequestContext) -> Result<Vec<PolicyDocument>, AwsError> {
        let store = self.store.as_ref();
        let account = ctx.account.as_str();
        let (inline, attached) = match &ctx.caller {
            Caller::Root => return Ok(Vec::new()),
            Caller::User { name } => {
                match entities::load::<User>(store, account, USER, name).await? {
                    Some(u) => (u.inline.into_values().collect::<Vec<_>>(), u.attached),
                    None => (Vec::new(), Vec::new()),
                }
            }
            Caller::Role { role_name, .. } => {
                match entities::load::<Role>(store, account, ROLE, role_name).await? {
                    Some(r) => (r.inline.into_values().collect::<Vec<_>>(), r.attached),
                    None => (Vec::new(), Vec::new()),
                }
            }
        };
        let mut documents: Vec<PolicyDocument> =
            inline.iter().filter_map(|t| parse_stored(t)).collect();
        for arn in attached {
            let name = arn.rsplit('/').next().unwrap_or(&arn);
            if let Some(p) = entities::load::<ManagedPolicy>(store, account, POLICY, name).await? {
                documents.extend(parse_stored(p.default_document()));
            }
        }
        Ok(documents)
    }

    /// The combined decision of the caller's identity-based policies. The account root has every
    /// identity-based permission.
    pub async fn identity_decision(
        &self,
        ctx: &RequestContext,
        action: &str,
        resource: &str,
        context: &Context,
    ) -> Result<Decision, AwsError> {
        if ctx.caller == Caller::Root {
            return Ok(Decision::Allow);
        }
        let cached = self
            .cache
            .read()
            .expect("policy cache lock")
            .get(ctx.principal_arn.as_str())
            .filter(|(_, stamp)| self.generation.is_fresh(stamp, self.ttl))
            .map(|(p, _)| p.clone());
        let policies = match cached {
            Some(p) => p,
            None => {
                let stamp = self.generation.stamp();
                let loaded = Arc::new(self.load_policies(ctx).await?);
                self.cache
                    .write()
                    .expect("policy cache lock")
                    .insert(ctx.principal_arn.clone(), (loaded.clone(), stamp));
                loaded
            }
        };
        let principal = principal(ctx);
        let request = Request {
            action,
            resource,
            principal: &principal,
            context,
        };
        Ok(combine(policies.iter().map(|p| p.evaluate(&request))))
    }

    /// Identity-only authorization (SSM, IAM, KMS operations without a key).
    pub async fn authorize(
        &self,
        ctx: &RequestContext,
        action: &str,
        resource: &str,
        context: &Context,
    ) -> Result<(), AwsError> {
        let built;
        let context = if context.get_lowercase("aws:principalaccount").is_none() {
            built = self::context(ctx, &[]);
            &built
        } else {
            context
        };
        match self
            .identity_decision(ctx, action, resource, context)
            .await?
        {
            Decision::Allow => Ok(()),
            Decision::Deny => Err(denied(
                ctx,
                action,
                resource,
                "with an explicit deny in an identity-based policy",
            )),
            Decision::NotApplicable => Err(denied(
                ctx,
                action,
                resource,
                &format!("because no identity-based policy allows the {action} action"),
            )),
        }
    }
}
