//! PATCH requests: API Gateway's JSON-Patch-like `patchOperations` (`op` of add, remove, replace,
//! move, copy; `path` like `/name` or `/variables/color`; `value` always a string).

use crate::error::{bad, Result};
use crate::shapes::PatchOperation;

/// One operation, checked: its `op`, its `path` (`~1` unescaped to `/` in each segment) and value.
pub(crate) struct Change<'a> {
    pub op: &'a str,
    pub path: String,
    pub value: Option<&'a str>,
}

impl Change<'_> {
    /// The value of a `replace`/`add`, required.
    pub fn value(&self) -> Result<&str> {
        self.value.ok_or_else(|| {
            bad(format!(
                "Invalid patch operation specified. Must be one of: [add, remove, move, test, replace, copy]; '{}' on {} needs a value",
                self.op, self.path
            ))
        })
    }

    /// The value as a boolean (`"true"`/`"false"`).
    pub fn flag(&self) -> Result<bool> {
        match self.value()? {
            "true" => Ok(true),
            "false" => Ok(false),
            other => Err(bad(format!(
                "Invalid value '{other}' for {}: must be true or false",
                self.path
            ))),
        }
    }

    /// The error for a path the target does not have.
    pub fn unsupported(&self, allowed: &[&str]) -> crate::error::ApiGatewayError {
        bad(format!(
            "Invalid patch path '{}' specified for op '{}'. Must be one of: [{}]",
            self.path,
            self.op,
            allowed.join(", ")
        ))
    }
}

/// Runs `apply` on each operation in order; the first error stops (nothing is saved by the caller).
pub(crate) fn apply(
    operations: &[PatchOperation],
    mut apply: impl FnMut(&Change<'_>) -> Result<()>,
) -> Result<()> {
    for o in operations {
        let op = o.op.as_deref().unwrap_or("");
        if !matches!(op, "add" | "remove" | "replace" | "move" | "copy" | "test") {
            return Err(bad(format!(
                "Invalid patch operation specified. Must be one of: [add, remove, move, test, replace, copy]; got '{op}'"
            )));
        }
        let path = o.path.as_deref().unwrap_or("");
        if !path.starts_with('/') {
            return Err(bad(format!(
                "Invalid patch path '{path}': it must start with /"
            )));
        }
        let path = path.replace("~1", "/").replace("~0", "~");
        apply(&Change {
            op,
            path,
            value: o.value.as_deref(),
        })?;
    }
    Ok(())
}

/// Applies a change to a string map member under `prefix` (`/variables/<name>`): add or replace
/// sets, remove deletes. Returns false when the path is not under `prefix`.
pub(crate) fn map_member(
    map: &mut std::collections::BTreeMap<String, String>,
    prefix: &str,
    change: &Change<'_>,
) -> Result<bool> {
    let Some(key) = change.path.strip_prefix(prefix) else {
        return Ok(false);
    };
    match change.op {
        "remove" => {
            map.remove(key);
        }
        _ => {
            map.insert(key.to_string(), change.value()?.to_string());
        }
    }
    Ok(true)
}
