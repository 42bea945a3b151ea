//! GetParametersByPath, DescribeParameters, GetParameterHistory: filters and paging.
//!
//! Next tokens are opaque to clients: base64 of the last name (or version index) returned, so paging
//! stays right while parameters are added or removed between pages.

use base64::Engine;
use m2sec_proto::json::Timestamp;
use m2sec_proto::RequestContext;
use m2sec_store::{ParameterRecord, ParameterVersionRecord, Scope};

use crate::error::{Result, SsmError};
use crate::names;
use crate::shapes::*;
use crate::{scope, Ssm};

const TOKEN_PREFIX: &str = "m2sec:1:";

fn encode_token(position: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{TOKEN_PREFIX}{position}"))
}

fn decode_token(token: Option<&str>) -> Result<Option<String>> {
    let Some(token) = token else { return Ok(None) };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|_| SsmError::InvalidNextToken)?;
    let text = String::from_utf8(bytes).map_err(|_| SsmError::InvalidNextToken)?;
    text.strip_prefix(TOKEN_PREFIX)
        .map(|p| Some(p.to_string()))
        .ok_or(SsmError::InvalidNextToken)
}

/// Where a filter may be used, which decides the keys and options it accepts.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Api {
    ByPath,
    Describe,
}

/// One checked filter.
enum Filter {
    Name {
        option: String,
        values: Vec<String>,
    },
    Path {
        recursive: bool,
        path: String,
    },
    Field {
        field: Field,
        option: String,
        values: Vec<String>,
    },
    Label(Vec<String>),
    Tag {
        key: String,
        option: String,
        values: Vec<String>,
    },
}

#[derive(Clone, Copy)]
enum Field {
    Type,
    KeyId,
    Tier,
    DataType,
}

/// The options botocore's model documents: Equals and BeginsWith everywhere, plus Contains for Name;
/// Path takes OneLevel/Recursive; Label (GetParametersByPath only) takes Equals.
fn options_for(key: &str) -> &'static [&'static str] {
    match key {
        "Name" => &["Equals", "BeginsWith", "Contains"],
        "Path" => &["OneLevel", "Recursive"],
        "Label" => &["Equals"],
        _ => &["Equals", "BeginsWith"],
    }
}

fn check_filters(filters: &[ParameterStringFilter], api: Api) -> Result<Vec<Filter>> {
    // As the model documents: GetParametersByPath takes Type, KeyId and Label; DescribeParameters takes
    // every key but Label.
    let valid_keys = match api {
        Api::ByPath => "Type, KeyId, Label",
        Api::Describe => "Name, Path, Type, KeyId, Tier, DataType, tag:<key>",
    };
    let mut out = Vec::new();
    for f in filters {
        let key = f.key.as_str();
        let known = match api {
            Api::ByPath => matches!(key, "Type" | "KeyId" | "Label"),
            Api::Describe => {
                matches!(
                    key,
                    "Name" | "Path" | "Type" | "KeyId" | "Tier" | "DataType"
                ) || key.starts_with("tag:")
            }
        };
        if !known {
            return Err(SsmError::InvalidFilterKey(format!(
                "The following filter key is not valid: {key}. Valid filter keys include: [{valid_keys}]."
            )));
        }
        let allowed = options_for(key);
        let option = f.option.clone().unwrap_or_else(|| allowed[0].to_string());
        if !allowed.contains(&option.as_str()) {
            return Err(SsmError::InvalidFilterOption(format!(
                "The following filter option is not valid: {option}. Valid options include: [{}].",
                allowed.join(", ")
            )));
        }
        let values = f.values.clone().unwrap_or_default();
        if values.is_empty() && !key.starts_with("tag:") {
            return Err(SsmError::InvalidFilterValue(format!(
                "The filter {key} needs at least one value."
            )));
        }
        out.push(match key {
            "Name" => Filter::Name { option, values },
            "Path" => {
                if values.len() != 1 || !values[0].starts_with('/') {
                    return Err(SsmError::InvalidFilterValue(
                        "The Path filter takes one value, a path beginning with a forward slash (/).".into(),
                    ));
                }
                Filter::Path {
                    recursive: option == "Recursive",
                    path: values[0].clone(),
                }
            }
            "Label" => Filter::Label(values),
            "Type" => {
                let exact = option == "Equals";
                if let Some(bad) = values.iter().find(|v| exact && !matches!(v.as_str(), "String" | "StringList" | "SecureString")) {
                    return Err(SsmError::InvalidFilterValue(format!(
                        "The following filter value is not valid: {bad}. Valid values include: [String, StringList, SecureString]."
                    )));
                }
                Filter::Field { field: Field::Type, option, values }
            }
            "KeyId" => Filter::Field { field: Field::KeyId, option, values },
            "Tier" => Filter::Field { field: Field::Tier, option, values },
            "DataType" => Filter::Field { field: Field::DataType, option, values },
            tag => Filter::Tag {
                key: tag["tag:".len()..].to_string(),
                option,
                values,
            },
        });
    }
    Ok(out)
}

/// Legacy `Filters` of DescribeParameters (Name, Type, KeyId), as ParameterStringFilters.
fn legacy_filters(filters: &[ParametersFilter]) -> Vec<ParameterStringFilter> {
    filters
        .iter()
        .map(|f| ParameterStringFilter {
            key: f.key.clone(),
            option: Some(
                if f.key == "Name" {
                    "BeginsWith"
                } else {
                    "Equals"
                }
                .to_string(),
            ),
            values: Some(f.values.clone()),
        })
        .collect()
}

fn under_path(name: &str, path: &str, recursive: bool) -> bool {
    let prefix = if path.ends_with('/') {
        path.to_string()
    } else {
        format!("{path}/")
    };
    match name.strip_prefix(&prefix) {
        Some(rest) => !rest.is_empty() && (recursive || !rest.contains('/')),
        None => false,
    }
}

fn text_matches(option: &str, actual: &str, values: &[String]) -> bool {
    values.iter().any(|v| match option {
        "BeginsWith" => actual.starts_with(v.as_str()),
        "Contains" => actual.contains(v.as_str()),
        _ => actual == v,
    })
}

impl Ssm {
    /// Whether a parameter passes every filter. Label filters need the parameter's versions.
    async fn passes(&self, scope: &Scope, p: &ParameterRecord, filters: &[Filter]) -> Result<bool> {
        for f in filters {
            let ok = match f {
                Filter::Name { option, values } if option == "Contains" => {
                    text_matches(option, &p.name, values)
                }
                Filter::Name { option, values } => {
                    // AWS matches a name given with or without its leading slash.
                    let normalized: Vec<String> = values
                        .iter()
                        .map(|v| {
                            if p.name.starts_with('/') && !v.starts_with('/') {
                                format!("/{v}")
                            } else {
                                v.clone()
                            }
                        })
                        .collect();
                    text_matches(option, &p.name, &normalized)
                }
                Filter::Path { recursive, path } => under_path(&p.name, path, *recursive),
                Filter::Field {
                    field,
                    option,
                    values,
                } => {
                    let v = &p.current;
                    let actual = match field {
                        Field::Type => Some(v.parameter_type.as_str()),
                        Field::KeyId => v.key_id.as_deref(),
                        Field::Tier => Some(v.tier.as_str()),
                        Field::DataType => Some(v.data_type.as_str()),
                    };
                    actual.is_some_and(|a| text_matches(option, a, values))
                }
                Filter::Label(labels) => self
                    .store
                    .parameter_versions(scope, &p.name)
                    .await?
                    .iter()
                    .any(|v| v.labels.iter().any(|l| labels.contains(l))),
                Filter::Tag {
                    key,
                    option,
                    values,
                } => p.tags.iter().any(|(k, v)| {
                    k == key && (values.is_empty() || text_matches(option, v, values))
                }),
            };
            if !ok {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Parameters from `prefix` on, after the token, passing `filters`, at most `max` (+ next token).
    async fn page(
        &self,
        scope: &Scope,
        prefix: &str,
        keep: impl Fn(&ParameterRecord) -> bool,
        filters: &[Filter],
        token: Option<&str>,
        max: usize,
    ) -> Result<(Vec<ParameterRecord>, Option<String>)> {
        let after = decode_token(token)?;
        let mut out = Vec::new();
        for p in self.store.list_parameters(scope, prefix).await? {
            if after.as_deref().is_some_and(|a| p.name.as_str() <= a) || !keep(&p) {
                continue;
            }
            if !self.passes(scope, &p, filters).await? {
                continue;
            }
            if out.len() >= max {
                let token = out
                    .last()
                    .map(|last: &ParameterRecord| encode_token(&last.name));
                return Ok((out, token));
            }
            out.push(p);
        }
        Ok((out, None))
    }

    pub(crate) async fn get_parameters_by_path(
        &self,
        ctx: &RequestContext,
        req: GetParametersByPathRequest,
    ) -> Result<GetParametersByPathResponse> {
        let scope = scope(ctx);
        if !req.path.starts_with('/') {
            return Err(SsmError::Validation(format!(
                "The parameter doesn't meet the parameter name requirements. The parameter name must begin with a \
                 forward slash \"/\". It can't be prefixed with \"aws\" or \"ssm\" (case-insensitive). It must use only \
                 letters, numbers, or the following symbols: . (period), - (hyphen), _ (underscore). Path: {}",
                req.path
            )));
        }
        let filters = check_filters(&req.parameter_filters, Api::ByPath)?;
        let prefix = if req.path.ends_with('/') {
            req.path.clone()
        } else {
            format!("{}/", req.path)
        };
        let recursive = req.recursive;
        let path = req.path.clone();
        let (found, next_token) = self
            .page(
                &scope,
                &prefix,
                |p| under_path(&p.name, &path, recursive),
                &filters,
                req.next_token.as_deref(),
                req.max_results.unwrap_or(10),
            )
            .await?;
        let mut parameters = Vec::with_capacity(found.len());
        for p in &found {
            parameters.push(
                self.parameter_out(ctx, p, &p.current, None, req.with_decryption)
                    .await?,
            );
        }
        Ok(GetParametersByPathResponse {
            parameters,
            next_token,
        })
    }

    pub(crate) async fn describe_parameters(
        &self,
        ctx: &RequestContext,
        req: DescribeParametersRequest,
    ) -> Result<DescribeParametersResponse> {
        let scope = scope(ctx);
        if !req.filters.is_empty() && !req.parameter_filters.is_empty() {
            return Err(SsmError::Validation(
                "You can use either Filters or ParameterFilters in a single request.".into(),
            ));
        }
        // Nothing is shared with this account by others.
        if req.shared {
            return Ok(DescribeParametersResponse {
                parameters: Vec::new(),
                next_token: None,
            });
        }
        let string_filters = if req.filters.is_empty() {
            req.parameter_filters.clone()
        } else {
            legacy_filters(&req.filters)
        };
        let filters = check_filters(&string_filters, Api::Describe)?;
        let (found, next_token) = self
            .page(
                &scope,
                "",
                |_| true,
                &filters,
                req.next_token.as_deref(),
                req.max_results.unwrap_or(50),
            )
            .await?;
        Ok(DescribeParametersResponse {
            parameters: found.iter().map(|p| metadata(&scope, p)).collect(),
            next_token,
        })
    }

    pub(crate) async fn get_parameter_history(
        &self,
        ctx: &RequestContext,
        req: GetParameterHistoryRequest,
    ) -> Result<GetParameterHistoryResponse> {
        let scope = scope(ctx);
        let parameter = self.find_named(&scope, &req.name).await?;
        let versions = self
            .store
            .parameter_versions(&scope, &parameter.name)
            .await?;
        let after: Option<u32> = match decode_token(req.next_token.as_deref())? {
            Some(v) => Some(v.parse().map_err(|_| SsmError::InvalidNextToken)?),
            None => None,
        };
        let max = req.max_results.unwrap_or(50);
        let remaining: Vec<&ParameterVersionRecord> = versions
            .iter()
            .filter(|v| after.is_none_or(|a| v.version > a))
            .collect();
        let page = &remaining[..remaining.len().min(max)];
        let next_token = (remaining.len() > max)
            .then(|| encode_token(&page[page.len() - 1].version.to_string()));
        let mut out = Vec::with_capacity(page.len());
        for v in page {
            out.push(ParameterHistory {
                name: parameter.name.clone(),
                parameter_type: v.parameter_type.clone(),
                key_id: v.key_id.clone(),
                last_modified_date: Timestamp(v.modified_at),
                last_modified_user: v.modified_by.clone(),
                description: v.description.clone(),
                value: self
                    .value_out(ctx, &parameter.name, v, req.with_decryption)
                    .await?,
                allowed_pattern: v.allowed_pattern.clone(),
                version: v.version,
                labels: v.labels.clone(),
                tier: v.tier.clone(),
                policies: Vec::new(),
                data_type: v.data_type.clone(),
            });
        }
        Ok(GetParameterHistoryResponse {
            parameters: out,
            next_token,
        })
    }
}

fn metadata(scope: &Scope, p: &ParameterRecord) -> ParameterMetadata {
    let v = &p.current;
    ParameterMetadata {
        name: p.name.clone(),
        arn: names::arn(scope, &p.name),
        parameter_type: v.parameter_type.clone(),
        key_id: v.key_id.clone(),
        last_modified_date: Timestamp(v.modified_at),
        last_modified_user: v.modified_by.clone(),
        description: v.description.clone(),
        allowed_pattern: v.allowed_pattern.clone(),
        version: v.version,
        tier: v.tier.clone(),
        policies: Vec::new(),
        data_type: v.data_type.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert!(under_path("/a/b", "/a", false));
        assert!(under_path("/a/b", "/a/", false));
        assert!(!under_path("/a/b/c", "/a", false));
        assert!(under_path("/a/b/c", "/a", true));
        assert!(!under_path("/ab", "/a", true));
        assert!(under_path("/x", "/", false));
        assert!(!under_path("/x/y", "/", false));
    }

    #[test]
    fn tokens_round_trip_and_reject_garbage() {
        let t = encode_token("/a/b");
        assert_eq!(decode_token(Some(&t)).unwrap().as_deref(), Some("/a/b"));
        assert!(decode_token(Some("garbage!")).is_err());
        assert!(decode_token(Some(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("x")
        ))
        .is_err());
    }
}
