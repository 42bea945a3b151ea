//! LabelParameterVersion, UnlabelParameterVersion. A label names one version of a parameter at a time;
//! labelling another version moves it.

use m2sec_proto::RequestContext;

use crate::error::{Result, SsmError};
use crate::names;
use crate::shapes::*;
use crate::{scope, Ssm};

const MAX_LABELS_PER_VERSION: usize = 10;

fn version_not_found(name: &str, version: u32) -> SsmError {
    SsmError::ParameterVersionNotFound(format!(
        "Systems Manager could not find version {version} of {name}. Verify the version and try again."
    ))
}

impl Ssm {
    pub(crate) async fn label_parameter_version(
        &self,
        ctx: &RequestContext,
        req: LabelRequest,
    ) -> Result<LabelParameterVersionResponse> {
        let scope = scope(ctx);
        let _guard = self.writes.lock().await;
        let parameter = self.find_named(&scope, &req.name).await?;
        let target = req.parameter_version.unwrap_or(parameter.current.version);
        let mut versions = self
            .store
            .parameter_versions(&scope, &parameter.name)
            .await?;
        if !versions.iter().any(|v| v.version == target) {
            return Err(version_not_found(&parameter.name, target));
        }
        let (valid, invalid): (Vec<String>, Vec<String>) =
            req.labels.into_iter().partition(|l| names::valid_label(l));
        let mut changed = std::collections::BTreeSet::new();
        for v in versions.iter_mut() {
            if v.version == target {
                for label in &valid {
                    if !v.labels.contains(label) {
                        v.labels.push(label.clone());
                        changed.insert(v.version);
                    }
                }
                if v.labels.len() > MAX_LABELS_PER_VERSION {
                    return Err(SsmError::ParameterVersionLabelLimitExceeded(format!(
                        "An error occurred when attempting to label parameter version {target} of {}: a parameter \
                         version can have at most {MAX_LABELS_PER_VERSION} labels.",
                        parameter.name
                    )));
                }
            } else {
                let before = v.labels.len();
                v.labels.retain(|l| !valid.contains(l));
                if v.labels.len() != before {
                    changed.insert(v.version);
                }
            }
        }
        let updates: Vec<(u32, Vec<String>)> = versions
            .into_iter()
            .filter(|v| changed.contains(&v.version))
            .map(|v| (v.version, v.labels))
            .collect();
        if !updates.is_empty() {
            self.store
                .set_parameter_labels(&scope, &parameter.name, &updates)
                .await?;
        }
        Ok(LabelParameterVersionResponse {
            invalid_labels: invalid,
            parameter_version: target,
        })
    }

    pub(crate) async fn unlabel_parameter_version(
        &self,
        ctx: &RequestContext,
        req: LabelRequest,
    ) -> Result<UnlabelParameterVersionResponse> {
        let scope = scope(ctx);
        let _guard = self.writes.lock().await;
        let parameter = self.find_named(&scope, &req.name).await?;
        let target = req
            .parameter_version
            .ok_or_else(|| SsmError::Validation("ParameterVersion is required".into()))?;
        let versions = self
            .store
            .parameter_versions(&scope, &parameter.name)
            .await?;
        let version = versions
            .into_iter()
            .find(|v| v.version == target)
            .ok_or_else(|| version_not_found(&parameter.name, target))?;
        let (removed, invalid): (Vec<String>, Vec<String>) = req
            .labels
            .into_iter()
            .partition(|l| version.labels.contains(l));
        if !removed.is_empty() {
            let kept: Vec<String> = version
                .labels
                .into_iter()
                .filter(|l| !removed.contains(l))
                .collect();
            self.store
                .set_parameter_labels(&scope, &parameter.name, &[(target, kept)])
                .await?;
        }
        Ok(UnlabelParameterVersionResponse {
            removed_labels: removed,
            invalid_labels: invalid,
        })
    }
}
