//! Does a statement apply to a request, and what does the document decide.

use super::document::{
    ActionElement, Effect, PolicyDocument, PrincipalElement, ResourceElement, Statement,
};
use super::pattern;
use super::{Context, Decision, PolicyKind, Principal, PrincipalKind, Request};

impl PolicyDocument {
    /// The decision of this document alone: `Deny` if a matching statement denies, else `Allow` if one
    /// allows, else `NotApplicable`. `Principal` elements are checked only in resource and trust policies
    /// (an identity policy applies to whoever it is attached to); trust policies have no `Resource`.
    pub fn evaluate(&self, request: &Request) -> Decision {
        let action = request.action.to_ascii_lowercase();
        let mut decision = Decision::NotApplicable;
        for statement in &self.statements {
            if statement.applies(self.kind, &action, request) {
                match statement.effect {
                    Effect::Deny => return Decision::Deny,
                    Effect::Allow => decision = Decision::Allow,
                }
            }
        }
        decision
    }
}

impl Statement {
    /// `action` is the request's action, lowercased.
    fn applies(&self, kind: PolicyKind, action: &str, request: &Request) -> bool {
        self.action.matches(action)
            && (kind == PolicyKind::Identity
                || self
                    .principal
                    .as_ref()
                    .is_some_and(|p| p.matches(request.principal)))
            && match &self.resource {
                Some(resource) => resource.matches(request.resource, request.context),
                None => true,
            }
            && self.conditions.iter().all(|c| c.holds(request.context))
    }
}

impl ActionElement {
    fn matches(&self, action: &str) -> bool {
        let listed = self
            .patterns
            .iter()
            .any(|p| pattern::glob_match(p, action, false));
        listed != self.negated
    }
}

impl ResourceElement {
    fn matches(&self, resource: &str, context: &Context) -> bool {
        let listed = self.patterns.iter().any(|template| {
            // A variable with no value leaves the pattern unresolved, and it then matches no resource.
            template
                .glob(context)
                .is_some_and(|p| pattern::glob_match(&p, resource, true))
        });
        listed != self.negated
    }
}

impl PrincipalElement {
    fn matches(&self, principal: &Principal) -> bool {
        if self.negated {
            !self.excludes(principal)
        } else {
            self.includes(principal)
        }
    }

    /// `Principal`: the caller is named directly, through its account, or (for a role session) through
    /// its role.
    fn includes(&self, principal: &Principal) -> bool {
        if self.everyone {
            return true;
        }
        match &principal.kind {
            PrincipalKind::Service(service) => self
                .services
                .iter()
                .any(|s| s.eq_ignore_ascii_case(service)),
            kind => {
                self.accounts.contains(&principal.account)
                    || self.arns.contains(&principal.arn)
                    || matches!(kind, PrincipalKind::AssumedRole { role_arn } if self.arns.contains(role_arn))
            }
        }
    }

    /// `NotPrincipal`: the statement applies to everyone except the callers it names. A user or role
    /// session is spared only when both its account and its own ARN are listed; naming the role does not
    /// spare its sessions. This is the IAM User Guide's rule for `NotPrincipal` with `Deny`, which asks
    /// for the account ARN next to the user or assumed-role session ARN.
    fn excludes(&self, principal: &Principal) -> bool {
        if self.everyone {
            return true;
        }
        match &principal.kind {
            PrincipalKind::Service(service) => self
                .services
                .iter()
                .any(|s| s.eq_ignore_ascii_case(service)),
            PrincipalKind::Root => self.accounts.contains(&principal.account),
            PrincipalKind::User | PrincipalKind::AssumedRole { .. } => {
                self.accounts.contains(&principal.account) && self.arns.contains(&principal.arn)
            }
        }
    }
}
