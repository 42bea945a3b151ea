//! What CreateTable and UpdateTable check of a table's shape: key schemas, attribute definitions,
//! indexes and capacity, with DynamoDB's messages.

use crate::error::{DynamoError, Result};
use crate::shapes::*;
use crate::tables::key_of;

pub(crate) fn capacity(
    billing_mode: &str,
    throughput: Option<&ProvisionedThroughput>,
    index: &str,
) -> Result<(i64, i64)> {
    match (billing_mode, throughput) {
        ("PAY_PER_REQUEST", None) => Ok((0, 0)),
        ("PAY_PER_REQUEST", Some(_)) => Err(DynamoError::validation(
            "One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
        )),
        (_, Some(t)) => Ok((t.read_capacity_units, t.write_capacity_units)),
        (_, None) if index.is_empty() => Err(DynamoError::validation(
            "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED",
        )),
        (_, None) => Err(DynamoError::validation(format!(
            "One or more parameter values were invalid: ProvisionedThroughput must be specified for index: {index}"
        ))),
    }
}

/// DynamoDB's checks of a new table's key schema, attribute definitions and indexes.
pub(crate) fn validate_schema(input: &CreateTableInput) -> Result<()> {
    let defined = |name: &str| {
        input
            .attribute_definitions
            .iter()
            .any(|a| a.attribute_name == name)
    };
    let check_keys = |schema: &[KeySchemaElement], what: &str| -> Result<()> {
        let hashes = schema.iter().filter(|k| k.key_type == "HASH").count();
        let ranges = schema.iter().filter(|k| k.key_type == "RANGE").count();
        if hashes != 1 || ranges > 1 || schema.len() > 2 || schema[0].key_type != "HASH" {
            return Err(DynamoError::validation(format!(
                "1 validation error detected: Invalid KeySchema{what}: The first KeySchemaElement is not a HASH key type"
            )));
        }
        for k in schema {
            if !defined(&k.attribute_name) {
                return Err(DynamoError::validation(
                    "One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [".to_string()
                        + &schema.iter().map(|k| k.attribute_name.as_str()).collect::<Vec<_>>().join(", ")
                        + "], AttributeDefinitions: ["
                        + &input.attribute_definitions.iter().map(|a| a.attribute_name.as_str()).collect::<Vec<_>>().join(", ")
                        + "]",
                ));
            }
        }
        Ok(())
    };
    check_keys(&input.key_schema, "")?;
    for a in &input.attribute_definitions {
        if !matches!(a.attribute_type.as_str(), "S" | "N" | "B") {
            return Err(DynamoError::validation(format!(
                "1 validation error detected: Value '{}' at 'attributeDefinitions.1.member.attributeType' failed to satisfy constraint: Member must satisfy enum value set: [B, N, S]",
                a.attribute_type
            )));
        }
    }
    let mut used: Vec<&str> = input
        .key_schema
        .iter()
        .map(|k| k.attribute_name.as_str())
        .collect();
    let mut names = std::collections::BTreeSet::new();
    for g in input.global_secondary_indexes.iter().flatten() {
        check_keys(&g.key_schema, "")?;
        used.extend(g.key_schema.iter().map(|k| k.attribute_name.as_str()));
        if !names.insert(g.index_name.as_str()) {
            return Err(DynamoError::validation(format!(
                "One or more parameter values were invalid: Duplicate index name: {}",
                g.index_name
            )));
        }
    }
    let table_hash = key_of(&input.key_schema, "HASH");
    for l in input.local_secondary_indexes.iter().flatten() {
        check_keys(&l.key_schema, "")?;
        if input.key_schema.len() < 2 {
            return Err(DynamoError::validation(
                "One or more parameter values were invalid: Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex",
            ));
        }
        if key_of(&l.key_schema, "HASH") != table_hash || l.key_schema.len() != 2 {
            return Err(DynamoError::validation(format!(
                "One or more parameter values were invalid: Index KeySchema does not have the same leading hash key as table KeySchema for index: {}. index hash key: {}, table hash key: {}",
                l.index_name,
                key_of(&l.key_schema, "HASH").unwrap_or_default(),
                table_hash.unwrap_or_default()
            )));
        }
        used.extend(l.key_schema.iter().map(|k| k.attribute_name.as_str()));
        if !names.insert(l.index_name.as_str()) {
            return Err(DynamoError::validation(format!(
                "One or more parameter values were invalid: Duplicate index name: {}",
                l.index_name
            )));
        }
    }
    if let Some(extra) = input
        .attribute_definitions
        .iter()
        .find(|a| !used.contains(&a.attribute_name.as_str()))
    {
        let _ = extra;
        return Err(DynamoError::validation(
            "One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions",
        ));
    }
    Ok(())
}
