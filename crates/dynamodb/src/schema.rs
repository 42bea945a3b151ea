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
    let check_keys = |schema: &[KeySchemaElement]| -> Result<()> {
        check_key_schema(schema)?;
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
    check_keys(&input.key_schema)?;
    let mut seen = std::collections::BTreeSet::new();
    for a in &input.attribute_definitions {
        if !seen.insert(a.attribute_name.as_str()) {
            return Err(DynamoError::validation(
                "Cannot have two attributes with the same name",
            ));
        }
    }
    check_index_lists(input)?;
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
        check_keys(&g.key_schema)?;
        check_projection(&g.projection)?;
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
        check_keys(&l.key_schema)?;
        check_projection(&l.projection)?;
        if input.key_schema.len() < 2 {
            return Err(DynamoError::validation(
                "One or more parameter values were invalid: Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex",
            ));
        }
        if l.key_schema.len() != 2 {
            return Err(DynamoError::validation(format!(
                "One or more parameter values were invalid: Index KeySchema does not have a range key for index: {}",
                l.index_name
            )));
        }
        if key_of(&l.key_schema, "HASH") != table_hash {
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

/// A key schema's shape: one HASH element first, at most one RANGE element second, of two attributes.
pub(crate) fn check_key_schema(schema: &[KeySchemaElement]) -> Result<()> {
    let Some(first) = schema.first() else {
        return Err(DynamoError::validation(
            "1 validation error detected: Value '[]' at 'keySchema' failed to satisfy constraint: Member must have length greater than or equal to 1",
        ));
    };
    if schema.len() > 2 {
        // Global indexes keyed on several attributes of each kind (DynamoDB's multi-attribute keys)
        // are not offered.
        return Err(DynamoError::validation(
            "One or more parameter values were invalid: m2sec supports key schemas of one HASH and at most one RANGE element; multi-attribute keys are not supported",
        ));
    }
    if schema.len() == 2 && schema[0].attribute_name == schema[1].attribute_name {
        return Err(DynamoError::validation(
            "Both the Hash Key and the Range Key element in the KeySchema have the same name",
        ));
    }
    if first.key_type != "HASH" {
        return Err(DynamoError::validation(
            "Invalid KeySchema: The first KeySchemaElement is not a HASH key type",
        ));
    }
    if schema.get(1).is_some_and(|k| k.key_type != "RANGE") {
        return Err(DynamoError::validation(
            "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type",
        ));
    }
    Ok(())
}

/// An index's projection: NonKeyAttributes with INCLUDE, and only then.
pub(crate) fn check_projection(projection: &Projection) -> Result<()> {
    let kind = projection.projection_type.as_deref().unwrap_or("null");
    match (kind, &projection.non_key_attributes) {
        ("INCLUDE", None) => Err(DynamoError::validation(
            "One or more parameter values were invalid: ProjectionType is INCLUDE, but NonKeyAttributes is not specified",
        )),
        ("INCLUDE", Some(_)) | (_, None) => Ok(()),
        (other, Some(_)) => Err(DynamoError::validation(format!(
            "One or more parameter values were invalid: ProjectionType is {other}, but NonKeyAttributes is specified"
        ))),
    }
}

/// The per-table limits on indexes: lists not empty, at most 5 local and 20 global indexes, at most
/// 100 projected non-key attributes over them all.
fn check_index_lists(input: &CreateTableInput) -> Result<()> {
    let lists = [
        (
            input.local_secondary_indexes.as_ref().map(Vec::len),
            "LocalSecondaryIndexes",
        ),
        (
            input.global_secondary_indexes.as_ref().map(Vec::len),
            "GlobalSecondaryIndexes",
        ),
    ];
    if let Some((_, name)) = lists.iter().find(|(len, _)| *len == Some(0)) {
        return Err(DynamoError::validation(format!(
            "One or more parameter values were invalid: List of {name} is empty"
        )));
    }
    let locals = input.local_secondary_indexes.as_ref().map_or(0, Vec::len);
    if locals > 5 {
        return Err(DynamoError::validation(
            "One or more parameter values were invalid: Number of LocalSecondaryIndexes exceeds per-table limit of 5",
        ));
    }
    let globals = input.global_secondary_indexes.as_ref().map_or(0, Vec::len);
    if globals > 20 {
        return Err(DynamoError::validation(
            "One or more parameter values were invalid: GlobalSecondaryIndex count exceeds the per-table limit of 20",
        ));
    }
    let projections = input
        .global_secondary_indexes
        .iter()
        .flatten()
        .map(|g| &g.projection)
        .chain(
            input
                .local_secondary_indexes
                .iter()
                .flatten()
                .map(|l| &l.projection),
        );
    let projected: usize = projections
        .map(|p| p.non_key_attributes.as_ref().map_or(0, Vec::len))
        .sum();
    if projected > 100 {
        return Err(DynamoError::validation(format!(
            "One or more parameter values were invalid: ProjectionType is INCLUDE, but the number of NonKeyAttributes projected into indexes, summed over all of the table's secondary indexes, is {projected}, more than the limit of 100"
        )));
    }
    Ok(())
}

/// Refuses the settings of a table m2sec does not offer (a stream, replicas, a resource policy); a
/// stream turned off is no setting at all.
pub(crate) fn refuse_unsupported(settings: &UnsupportedTableSettings) -> Result<()> {
    let what = if settings
        .stream_specification
        .as_ref()
        .is_some_and(|s| s.stream_enabled)
    {
        "DynamoDB Streams (StreamSpecification with StreamEnabled true)"
    } else if settings.replica_updates.is_some()
        || settings.global_table_source_arn.is_some()
        || settings.global_table_settings_replication_mode.is_some()
        || settings.global_table_witness_updates.is_some()
        || settings.multi_region_consistency.is_some()
    {
        "global tables (ReplicaUpdates, GlobalTableSourceArn, GlobalTableWitnessUpdates, MultiRegionConsistency, GlobalTableSettingsReplicationMode)"
    } else if settings.resource_policy.is_some() {
        "resource-based policies (ResourcePolicy)"
    } else {
        return Ok(());
    };
    Err(DynamoError::Unsupported(format!(
        "m2sec does not offer {what}; the table was not changed"
    )))
}

/// UpdateTable's own rules: something to change, and at most one global index created or deleted.
pub(crate) fn check_table_update(input: &UpdateTableInput) -> Result<()> {
    let updates = input.global_secondary_index_updates.iter().flatten();
    let online = updates
        .filter(|u| u.create.is_some() || u.delete.is_some())
        .count();
    if online > 1 {
        return Err(DynamoError::LimitExceeded(
            "Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table".into(),
        ));
    }
    for create in input
        .global_secondary_index_updates
        .iter()
        .flatten()
        .filter_map(|u| u.create.as_ref())
    {
        check_key_schema(&create.key_schema)?;
        check_projection(&create.projection)?;
    }
    let nothing = input.attribute_definitions.is_none()
        && input.billing_mode.is_none()
        && input.provisioned_throughput.is_none()
        && input
            .global_secondary_index_updates
            .as_ref()
            .is_none_or(Vec::is_empty)
        && input.sse_specification.is_none()
        && input.deletion_protection_enabled.is_none()
        && input.table_class.is_none()
        && input.unsupported.stream_specification.is_none()
        && input.unsupported.on_demand_throughput.is_none()
        && input.unsupported.warm_throughput.is_none();
    if nothing {
        return Err(DynamoError::validation(
            "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required",
        ));
    }
    Ok(())
}
