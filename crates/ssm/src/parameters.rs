//! PutParameter, GetParameter, GetParameters, DeleteParameter, DeleteParameters.

use m2sec_proto::json::Timestamp;
use m2sec_proto::RequestContext;
use m2sec_store::{ParameterRecord, ParameterVersionRecord, Scope, StoreError};

use crate::error::{Result, SsmError};
use crate::names::{self, Selector};
use crate::shapes::*;
use crate::{not_found, now_ms, scope, Ssm, SECURE_STRING};

const STANDARD_MAX: usize = 4096;
const ADVANCED_MAX: usize = 8192;
const MAX_VERSIONS: usize = 100;
const MAX_STANDARD_PARAMETERS: u64 = 10_000;
const MAX_ADVANCED_PARAMETERS: u64 = 100_000;
pub(crate) const MAX_TAGS: usize = 50;
const DATA_TYPES: &[&str] = &["text", "aws:ec2:image", "aws:ssm:integration"];

/// The tier a value gets: AWS's size limits, Intelligent-Tiering's choice, and no downgrades.
fn choose_tier(requested: Option<&str>, existing: Option<&str>, len: usize) -> Result<String> {
    let advanced_before = existing == Some("Advanced");
    let tier = match requested {
        Some("Advanced") => "Advanced",
        Some("Intelligent-Tiering") if len > STANDARD_MAX || advanced_before => "Advanced",
        Some("Intelligent-Tiering") => "Standard",
        Some("Standard") if advanced_before => {
            return Err(SsmError::Validation(
                "This parameter uses the advanced-parameter tier. You can't downgrade a parameter from the \
                 advanced-parameter tier to the standard-parameter tier. If necessary, you can delete the advanced \
                 parameter and recreate it as a standard parameter."
                    .into(),
            ))
        }
        // Without a tier, a parameter keeps the one it has (Standard for a new one).
        None if advanced_before => "Advanced",
        _ => "Standard",
    };
    if tier == "Standard" && len > STANDARD_MAX {
        return Err(SsmError::Validation(format!(
            "Standard tier parameters support a maximum parameter value of {STANDARD_MAX} characters. To create a \
             larger parameter value, upgrade the parameter to use the advanced-parameter tier."
        )));
    }
    if len > ADVANCED_MAX {
        return Err(SsmError::Validation(format!(
            "Advanced tier parameters support a maximum parameter value of {ADVANCED_MAX} characters."
        )));
    }
    Ok(tier.to_string())
}

fn check_data_type(data_type: &str, value: &str) -> Result<()> {
    if !DATA_TYPES.contains(&data_type) {
        return Err(SsmError::Validation(format!(
            "The following data type is not supported: {data_type} (Data type names are all lowercase.)"
        )));
    }
    if data_type == "aws:ec2:image" {
        let ok = value.strip_prefix("ami-").is_some_and(|h| {
            (h.len() == 8 || h.len() == 17)
                && h.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        });
        if !ok {
            return Err(SsmError::Validation(format!(
                "Parameter value '{value}' is not a valid Amazon Machine Image ID: for data type aws:ec2:image \
                 the value must look like ami-12345678 or ami-1234567890abcdef0."
            )));
        }
    }
    Ok(())
}

fn check_allowed_pattern(pattern: &str, value: &str, secure: bool) -> Result<()> {
    let re = regex::Regex::new(&format!("^(?:{pattern})$")).map_err(|e| {
        SsmError::InvalidAllowedPattern(format!(
            "The allowed pattern {pattern} is not a valid regular expression: {e}"
        ))
    })?;
    if !re.is_match(value) {
        let shown = if secure {
            "(hidden)".to_string()
        } else {
            value.to_string()
        };
        return Err(SsmError::ParameterPatternMismatch(format!(
            "Parameter value, {shown}, failed to satisfy constraint specified in AllowedPattern: {pattern}"
        )));
    }
    Ok(())
}

pub(crate) fn check_tags(tags: &[Tag]) -> Result<()> {
    if tags.len() > MAX_TAGS {
        return Err(SsmError::TooManyTags(format!(
            "A parameter can have at most {MAX_TAGS} tags; the request has {}",
            tags.len()
        )));
    }
    if let Some(t) = tags
        .iter()
        .find(|t| t.key.to_ascii_lowercase().starts_with("aws:"))
    {
        return Err(SsmError::Validation(format!(
            "Tag keys beginning with 'aws:' are reserved: '{}'",
            t.key
        )));
    }
    Ok(())
}

impl Ssm {
    pub(crate) async fn put_parameter(
        &self,
        ctx: &RequestContext,
        mut req: PutParameterRequest,
    ) -> Result<PutParameterResponse> {
        let scope = scope(ctx);
        // As AWS documents: spaces around a name are removed.
        req.name = req.name.trim_matches(' ').to_string();
        names::check_name(&scope, &req.name)?;
        if req.policies.is_some() {
            return Err(SsmError::Unsupported(
                "Parameter policies (Expiration, ExpirationNotification, NoChangeNotification) are not supported by m2sec yet"
                    .into(),
            ));
        }
        if req.tags.is_some() && req.overwrite {
            return Err(SsmError::Validation(
                "Tags and overwrite can't be used together. To create a parameter with tags, please remove overwrite \
                 flag. To update tags for an existing parameter, please use AddTagsToResource or RemoveTagsFromResource."
                    .into(),
            ));
        }
        let value: &str = &req.value.0;
        if value.is_empty() {
            return Err(SsmError::Validation(
                "1 validation error detected: Value at 'value' failed to satisfy constraint: Member must have length greater than or equal to 1"
                    .into(),
            ));
        }
        let data_type = req.data_type.clone().unwrap_or_else(|| "text".into());
        check_data_type(&data_type, value)?;
        if let Some(tags) = &req.tags {
            check_tags(tags)?;
        }

        let _guard = self.writes.lock().await;
        let existing = self.store.get_parameter(&scope, &req.name).await?;
        if existing.is_some() && !req.overwrite {
            return Err(SsmError::ParameterAlreadyExists);
        }
        let previous = existing.as_ref().map(|p| &p.current);
        let parameter_type = req
            .parameter_type
            .clone()
            .or_else(|| previous.map(|v| v.parameter_type.clone()))
            .ok_or_else(|| {
                SsmError::Validation(
                    "A parameter type is required when you create a parameter.".into(),
                )
            })?;
        let secure = parameter_type == SECURE_STRING;
        if req.key_id.is_some() && !secure {
            return Err(SsmError::Validation(format!(
                "KeyId is used only with SecureString parameters; this parameter's type is {parameter_type}."
            )));
        }
        if let Some(pattern) = &req.allowed_pattern {
            check_allowed_pattern(pattern, value, secure)?;
        }
        let tier = choose_tier(
            req.tier.as_deref(),
            previous.map(|v| v.tier.as_str()),
            value.len(),
        )?;
        if existing.is_none() {
            self.check_parameter_limit(&scope, &tier).await?;
        }
        let version = previous.map(|v| v.version + 1).unwrap_or(1);
        let drop_version = match &existing {
            Some(p) => self.version_to_drop(&scope, p).await?,
            None => None,
        };
        // The key: as given, else the one the parameter had (if it stays a SecureString), else AWS's default.
        let key_id = secure.then(|| {
            req.key_id
                .clone()
                .or_else(|| {
                    previous
                        .filter(|v| v.parameter_type == SECURE_STRING)
                        .and_then(|v| v.key_id.clone())
                })
                .unwrap_or_else(|| "alias/aws/ssm".to_string())
        });
        let stored_value = match &key_id {
            Some(k) => self.seal_value(ctx, &req.name, k, value).await?,
            None => value.to_string(),
        };
        let record = ParameterRecord {
            scope: scope.clone(),
            name: req.name.clone(),
            tags: match &existing {
                Some(p) => p.tags.clone(),
                None => req
                    .tags
                    .unwrap_or_default()
                    .into_iter()
                    .map(|t| (t.key, t.value))
                    .collect(),
            },
            current: ParameterVersionRecord {
                version,
                parameter_type,
                value: stored_value,
                key_id,
                description: req
                    .description
                    .or_else(|| previous.and_then(|v| v.description.clone())),
                allowed_pattern: req.allowed_pattern,
                data_type,
                tier: tier.clone(),
                labels: Vec::new(),
                policies: None,
                modified_at: now_ms(),
                modified_by: ctx.principal_arn.clone(),
            },
        };
        match self
            .store
            .put_parameter(&record, existing.is_none(), drop_version)
            .await
        {
            Err(StoreError::AlreadyExists) => return Err(SsmError::ParameterAlreadyExists),
            other => other?,
        }
        Ok(PutParameterResponse { version, tier })
    }

    async fn check_parameter_limit(&self, scope: &Scope, tier: &str) -> Result<()> {
        let (standard, advanced) = self.store.count_parameters(scope).await?;
        let (count, limit) = if tier == "Advanced" {
            (advanced, MAX_ADVANCED_PARAMETERS)
        } else {
            (standard, MAX_STANDARD_PARAMETERS)
        };
        if count >= limit {
            return Err(SsmError::ParameterLimitExceeded(format!(
                "You have reached the limit of {limit} {tier} parameters in this account and region. Delete \
                 parameters, or use the advanced tier."
            )));
        }
        Ok(())
    }

    /// At 100 versions the oldest goes, unless it carries a label.
    async fn version_to_drop(
        &self,
        scope: &Scope,
        parameter: &ParameterRecord,
    ) -> Result<Option<u32>> {
        let versions = self
            .store
            .parameter_versions(scope, &parameter.name)
            .await?;
        if versions.len() < MAX_VERSIONS {
            return Ok(None);
        }
        let oldest = &versions[0];
        if !oldest.labels.is_empty() {
            return Err(SsmError::ParameterMaxVersionLimitExceeded(format!(
                "You attempted to create a new version of {} by calling the PutParameter API with the overwrite flag. \
                 Version {}, the oldest version, can't be deleted because it has a label associated with it. Move the \
                 label to another version of the parameter, and try again.",
                parameter.name, oldest.version
            )));
        }
        Ok(Some(oldest.version))
    }

    /// Finds the parameter and the version a reference (`name`, `name:3`, `name:label`, ARN) selects.
    pub(crate) async fn select(
        &self,
        scope: &Scope,
        reference: &str,
    ) -> Result<(ParameterRecord, ParameterVersionRecord, Selector)> {
        let (candidates, selector) = names::parse_reference(scope, reference)?;
        let parameter = self
            .find(scope, &candidates)
            .await?
            .ok_or_else(|| not_found(reference))?;
        let version = match &selector {
            Selector::Latest => parameter.current.clone(),
            Selector::Version(v) if *v == parameter.current.version => parameter.current.clone(),
            Selector::Version(v) => self
                .store
                .parameter_versions(scope, &parameter.name)
                .await?
                .into_iter()
                .find(|r| r.version == *v)
                .ok_or_else(|| {
                    SsmError::ParameterVersionNotFound(format!(
                        "Systems Manager could not find version {v} of {}. Verify the version and try again.",
                        parameter.name
                    ))
                })?,
            Selector::Label(label) => self
                .store
                .parameter_versions(scope, &parameter.name)
                .await?
                .into_iter()
                .find(|r| r.labels.contains(label))
                .ok_or_else(|| {
                    SsmError::ParameterVersionNotFound(format!(
                        "Systems Manager could not find a version of {} labelled {label}.",
                        parameter.name
                    ))
                })?,
        };
        Ok((parameter, version, selector))
    }

    pub(crate) async fn parameter_out(
        &self,
        ctx: &RequestContext,
        parameter: &ParameterRecord,
        version: &ParameterVersionRecord,
        selector: Option<String>,
        with_decryption: bool,
    ) -> Result<Parameter> {
        Ok(Parameter {
            name: parameter.name.clone(),
            parameter_type: version.parameter_type.clone(),
            value: self
                .value_out(ctx, &parameter.name, version, with_decryption)
                .await?,
            version: version.version,
            selector,
            last_modified_date: Timestamp(version.modified_at),
            arn: names::arn(&scope(ctx), &parameter.name),
            data_type: version.data_type.clone(),
        })
    }

    pub(crate) async fn get_parameter(
        &self,
        ctx: &RequestContext,
        req: GetParameterRequest,
    ) -> Result<GetParameterResponse> {
        let scope = scope(ctx);
        let (parameter, version, selector) = self.select(&scope, &req.name).await?;
        Ok(GetParameterResponse {
            parameter: self
                .parameter_out(
                    ctx,
                    &parameter,
                    &version,
                    selector.text(),
                    req.with_decryption,
                )
                .await?,
        })
    }

    pub(crate) async fn get_parameters(
        &self,
        ctx: &RequestContext,
        req: GetParametersRequest,
    ) -> Result<GetParametersResponse> {
        let scope = scope(ctx);
        let mut parameters = Vec::new();
        let mut invalid = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for reference in req.names {
            if !seen.insert(reference.clone()) {
                continue;
            }
            match self.select(&scope, &reference).await {
                Ok((p, v, s)) => parameters.push(
                    self.parameter_out(ctx, &p, &v, s.text(), req.with_decryption)
                        .await?,
                ),
                Err(
                    SsmError::ParameterNotFound(_)
                    | SsmError::ParameterVersionNotFound(_)
                    | SsmError::Validation(_),
                ) => invalid.push(reference),
                Err(other) => return Err(other),
            }
        }
        // AWS lists the parameters in alphabetical order.
        parameters.sort_by(|a, b| a.name.cmp(&b.name).then(a.version.cmp(&b.version)));
        Ok(GetParametersResponse {
            parameters,
            invalid_parameters: invalid,
        })
    }

    pub(crate) async fn delete_parameter(
        &self,
        ctx: &RequestContext,
        req: NameRequest,
    ) -> Result<Empty> {
        let scope = scope(ctx);
        let _guard = self.writes.lock().await;
        if !self.delete_one(&scope, &req.name).await? {
            return Err(not_found(&req.name));
        }
        Ok(Empty {})
    }

    pub(crate) async fn delete_parameters(
        &self,
        ctx: &RequestContext,
        req: NamesRequest,
    ) -> Result<DeleteParametersResponse> {
        let scope = scope(ctx);
        let _guard = self.writes.lock().await;
        let mut deleted = Vec::new();
        let mut invalid = Vec::new();
        for name in req.names {
            if self.delete_one(&scope, &name).await? {
                deleted.push(name);
            } else {
                invalid.push(name);
            }
        }
        Ok(DeleteParametersResponse {
            deleted_parameters: deleted,
            invalid_parameters: invalid,
        })
    }

    async fn delete_one(&self, scope: &Scope, reference: &str) -> Result<bool> {
        let Ok((candidates, Selector::Latest)) = names::parse_reference(scope, reference) else {
            return Ok(false);
        };
        match self.find(scope, &candidates).await? {
            Some(p) => Ok(self.store.delete_parameter(scope, &p.name).await?),
            None => Ok(false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers() {
        assert_eq!(choose_tier(None, None, 10).unwrap(), "Standard");
        assert!(choose_tier(None, None, 4097).is_err());
        assert_eq!(
            choose_tier(Some("Intelligent-Tiering"), None, 5000).unwrap(),
            "Advanced"
        );
        assert_eq!(
            choose_tier(Some("Intelligent-Tiering"), None, 50).unwrap(),
            "Standard"
        );
        assert_eq!(
            choose_tier(Some("Advanced"), None, 8192).unwrap(),
            "Advanced"
        );
        assert!(choose_tier(Some("Advanced"), None, 8193).is_err());
        assert!(choose_tier(Some("Standard"), Some("Advanced"), 10).is_err());
        assert_eq!(choose_tier(None, Some("Advanced"), 10).unwrap(), "Advanced");
    }

    #[test]
    fn data_types() {
        assert!(check_data_type("text", "x").is_ok());
        assert!(check_data_type("aws:ec2:image", "ami-12345678").is_ok());
        assert!(check_data_type("aws:ec2:image", "ami-1234567890abcdef0").is_ok());
        assert!(check_data_type("aws:ec2:image", "ami-xyz").is_err());
        assert!(check_data_type("Text", "x").is_err());
    }
}
