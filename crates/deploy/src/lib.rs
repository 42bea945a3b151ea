//! `m2sec deploy serverless.yml`: what `serverless deploy` (framework v3, with serverless-domain-manager)
//! does on AWS, done through m2sec's own services as the deploying caller.
//!
//! - [`template`]: the file's variables (`${self:…}`, `${opt:…}`, `${ssm:…}`, …) resolved;
//! - [`plan`]: what the resolved file asks for, named as the framework names it;
//! - [`converge`]: the calls that make m2sec match the plan (creating what is missing, updating what
//!   differs, removing routes and functions the file no longer has), with the custom domain in
//!   `domain.rs`; `remove.rs` is `--remove`.
//!
//! Every change is an ordinary call of DynamoDB, IAM, API Gateway, Route53, ACM or SSM through
//! [`m2sec_proto::services::Services`], authorized against the deployer's policies and recorded in
//! the trail. Functions have no AWS service in m2sec: they are built-in handlers, registered with the
//! [`Host`].

pub mod converge;
mod domain;
pub mod plan;
mod remove;
pub mod template;

use async_trait::async_trait;
use m2sec_proto::services::Services;
use m2sec_proto::{AwsError, RequestContext};
use serde_json::Value as Json;

pub use converge::{deploy, Options, Report};
pub use remove::remove;

#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// The file asks for something wrong or unsupported; the message names where.
    #[error("{0}")]
    Template(String),
    /// A call of m2sec's services failed.
    #[error("{step}: {} ({})", .error.message, .error.code)]
    Call { step: String, error: Box<AwsError> },
    /// The host could not register functions or keep the deployment's record.
    #[error("{0}")]
    Host(String),
}

/// Where a deployment runs: m2sec's services, plus what has no AWS service in m2sec.
#[async_trait]
pub trait Host: Send + Sync {
    fn services(&self) -> &dyn Services;

    /// The handler paths functions may name (`src/handlers/auth.login`).
    fn handlers(&self) -> Vec<String>;

    /// Makes `functions` the functions of `service` and `stage` (those of an earlier deployment
    /// missing from the list are removed).
    async fn put_functions(
        &self,
        ctx: &RequestContext,
        plan: &plan::Plan,
        functions: &[plan::Function],
    ) -> Result<(), DeployError>;

    /// The record of what the last deployment of `service` and `stage` made, if any.
    async fn load_record(&self, service: &str, stage: &str) -> Result<Option<Json>, DeployError>;

    /// Keeps (`Some`) or forgets (`None`) that record.
    async fn save_record(
        &self,
        service: &str,
        stage: &str,
        record: Option<&Json>,
    ) -> Result<(), DeployError>;

    /// What the host does once the rest is in place (the first user of an app); returns lines for
    /// the report.
    async fn after_deploy(
        &self,
        ctx: &RequestContext,
        plan: &plan::Plan,
    ) -> Result<Vec<String>, DeployError>;
}
