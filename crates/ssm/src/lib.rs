//! SSM Parameter Store (`AmazonSSM`): String, StringList and SecureString parameters with versions,
//! labels and tags. SecureString values are encrypted by m2sec's KMS exactly as AWS does it: a KMS
//! Encrypt under the parameter's key (default: the AWS managed `alias/aws/ssm`) with encryption context
//! `{"PARAMETER_ARN": "<parameter ARN>"}`; the store only ever holds that ciphertext.
//!
//! | file | operations |
//! |------|------------|
//! | `parameters.rs` | PutParameter, GetParameter, GetParameters, DeleteParameter, DeleteParameters |
//! | `queries.rs` | GetParametersByPath, DescribeParameters, GetParameterHistory (filters, paging) |
//! | `labels.rs` | LabelParameterVersion, UnlabelParameterVersion |
//! | `tags.rs` | AddTagsToResource, ListTagsForResource, RemoveTagsFromResource |
//! | `names.rs` | names, hierarchies, ARNs, selectors, labels |

pub mod error;
mod labels;
mod names;
pub mod operations;
mod parameters;
mod queries;
mod shapes;
mod tags;

use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use base64::Engine;
use m2sec_kms::{EncryptionContext, Kms};
use m2sec_proto::json::JsonService;
use m2sec_proto::model::ServiceModel;
use m2sec_proto::{AwsError, RequestContext};
use m2sec_store::{ParameterRecord, ParameterVersionRecord, Scope, Store};
use serde_json::Value as Json;

use crate::error::{Result, SsmError};
pub use crate::operations::SsmOperation;
use crate::shapes::Value;

/// botocore's SSM model, compiled once.
pub fn model() -> &'static ServiceModel {
    static MODEL: OnceLock<ServiceModel> = OnceLock::new();
    MODEL.get_or_init(|| ServiceModel::from_json(include_str!("../../proto/models/ssm.json")))
}

pub struct Ssm {
    store: Arc<dyn Store>,
    kms: Arc<Kms>,
    authorizer: Arc<m2sec_iam::Authorizer>,
    /// Serializes read-modify-write of parameters on this node.
    writes: tokio::sync::Mutex<()>,
}

pub(crate) const SECURE_STRING: &str = "SecureString";
pub(crate) const CONTEXT_KEY: &str = "PARAMETER_ARN";

pub(crate) fn scope(ctx: &RequestContext) -> Scope {
    Scope::new(ctx.account.clone(), ctx.region.clone())
}

pub(crate) use m2sec_store::now_ms;

use m2sec_proto::run_json as run;

#[async_trait]
impl JsonService for Ssm {
    fn model(&self) -> &ServiceModel {
        model()
    }

    async fn call(
        &self,
        ctx: &RequestContext,
        operation: &str,
        input: Json,
    ) -> Result<Vec<u8>, AwsError> {
        use SsmOperation as Op;
        let op = Op::from_name(operation).ok_or_else(|| AwsError::unknown_operation(operation))?;
        if op.implemented() {
            self.authorize(ctx, op, &input).await?;
        }
        match op {
            Op::PutParameter => run!(self.put_parameter(ctx, input)),
            Op::GetParameter => run!(self.get_parameter(ctx, input)),
            Op::GetParameters => run!(self.get_parameters(ctx, input)),
            Op::DeleteParameter => run!(self.delete_parameter(ctx, input)),
            Op::DeleteParameters => run!(self.delete_parameters(ctx, input)),
            Op::GetParametersByPath => run!(self.get_parameters_by_path(ctx, input)),
            Op::DescribeParameters => run!(self.describe_parameters(ctx, input)),
            Op::GetParameterHistory => run!(self.get_parameter_history(ctx, input)),
            Op::LabelParameterVersion => run!(self.label_parameter_version(ctx, input)),
            Op::UnlabelParameterVersion => run!(self.unlabel_parameter_version(ctx, input)),
            Op::AddTagsToResource => run!(self.add_tags_to_resource(ctx, input)),
            Op::ListTagsForResource => run!(self.list_tags_for_resource(ctx, input)),
            Op::RemoveTagsFromResource => run!(self.remove_tags_from_resource(ctx, input)),
            other => {
                debug_assert!(!other.implemented());
                Err(AwsError::unsupported("SSM", other.name()))
            }
        }
    }
}

impl Ssm {
    pub fn new(
        store: Arc<dyn Store>,
        kms: Arc<Kms>,
        authorizer: Arc<m2sec_iam::Authorizer>,
    ) -> Self {
        Ssm {
            store,
            kms,
            authorizer,
            writes: tokio::sync::Mutex::new(()),
        }
    }

    /// Identity-based authorization on the parameters a request names (each of GetParameters' and
    /// DeleteParameters' names; the path for GetParametersByPath; `*` for DescribeParameters).
    async fn authorize(
        &self,
        ctx: &RequestContext,
        op: SsmOperation,
        input: &Json,
    ) -> Result<(), AwsError> {
        let scope = scope(ctx);
        // A name may carry a selector (`name:3`) or be the parameter's ARN (with or without one).
        let arn_of = |reference: &str| match names::parse_reference(&scope, reference) {
            Ok((candidates, _)) => names::arn(&scope, &candidates[0]),
            Err(_) => reference.to_string(),
        };
        let mut resources: Vec<String> = Vec::new();
        for member in ["Name", "ResourceId"] {
            if let Some(n) = input.get(member).and_then(Json::as_str) {
                resources.push(arn_of(n));
            }
        }
        if let Some(p) = input.get("Path").and_then(Json::as_str) {
            resources.push(names::arn(&scope, p.trim_end_matches('/')));
        }
        if let Some(list) = input.get("Names").and_then(Json::as_array) {
            resources.extend(list.iter().filter_map(Json::as_str).map(arn_of));
        }
        if resources.is_empty() {
            resources.push("*".into());
        }
        // SSM's own condition keys, where the request carries them.
        let mut extra: Vec<(&str, Vec<String>)> = Vec::new();
        if let Some(overwrite) = input.get("Overwrite").and_then(Json::as_bool) {
            extra.push(("ssm:Overwrite", vec![overwrite.to_string()]));
        }
        if let Some(recursive) = input.get("Recursive").and_then(Json::as_bool) {
            extra.push(("ssm:Recursive", vec![recursive.to_string()]));
        }
        if let Some(policies) = input.get("Policies").and_then(Json::as_str) {
            extra.push(("ssm:Policies", vec![policies.to_string()]));
        }
        let context = m2sec_iam::authorizer::context(ctx, &extra);
        for resource in resources.iter().filter(|r| r.as_str() != "*") {
            ctx.touch("AWS::SSM::Parameter", resource);
        }
        for resource in resources {
            self.authorizer
                .authorize(ctx, &op.action(), &resource, &context)
                .await?;
        }
        Ok(())
    }

    fn context(scope: &Scope, name: &str) -> EncryptionContext {
        let mut ctx = EncryptionContext::new();
        ctx.insert(CONTEXT_KEY.to_string(), names::arn(scope, name));
        ctx
    }

    /// Encrypts a SecureString value; returns the stored form (base64 KMS ciphertext).
    pub(crate) async fn seal_value(
        &self,
        ctx: &RequestContext,
        name: &str,
        key_id: &str,
        value: &str,
    ) -> Result<String> {
        let sealed = self
            .kms
            .encrypt_for_service(
                ctx,
                "ssm",
                Some(key_id),
                value.as_bytes(),
                &Self::context(&scope(ctx), name),
            )
            .await
            .map_err(SsmError::from_kms)?;
        Ok(base64::engine::general_purpose::STANDARD.encode(sealed.blob))
    }

    /// The value a caller sees: SecureString values stay ciphertext unless decryption was asked for.
    pub(crate) async fn value_out(
        &self,
        ctx: &RequestContext,
        name: &str,
        version: &ParameterVersionRecord,
        with_decryption: bool,
    ) -> Result<Value> {
        if version.parameter_type != SECURE_STRING || !with_decryption {
            return Ok(Value(zeroize::Zeroizing::new(version.value.clone())));
        }
        let blob = base64::engine::general_purpose::STANDARD
            .decode(&version.value)
            .map_err(|_| {
                SsmError::Internal(format!("stored ciphertext of {name} is not base64"))
            })?;
        let (plaintext, _) = self
            .kms
            .decrypt_for_service(ctx, "ssm", &blob, &Self::context(&scope(ctx), name))
            .await
            .map_err(SsmError::from_kms)?;
        let text = String::from_utf8(plaintext.expose().to_vec())
            .map_err(|_| SsmError::Internal(format!("decrypted value of {name} is not UTF-8")))?;
        Ok(Value(zeroize::Zeroizing::new(text)))
    }

    /// The parameter a (possibly ARN) name refers to.
    pub(crate) async fn find(
        &self,
        scope: &Scope,
        candidates: &[String],
    ) -> Result<Option<ParameterRecord>> {
        for name in candidates {
            if let Some(p) = self.store.get_parameter(scope, name).await? {
                return Ok(Some(p));
            }
        }
        Ok(None)
    }
}

impl Ssm {
    /// The parameter a name or ARN refers to (any selector ignored), or `ParameterNotFound`.
    pub(crate) async fn find_named(
        &self,
        scope: &Scope,
        reference: &str,
    ) -> Result<ParameterRecord> {
        let (candidates, _) = names::parse_reference(scope, reference)?;
        self.find(scope, &candidates)
            .await?
            .ok_or_else(|| not_found(reference))
    }
}

pub(crate) fn not_found(name: &str) -> SsmError {
    SsmError::ParameterNotFound(format!("Parameter {name} not found."))
}
