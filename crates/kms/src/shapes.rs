//! Typed inputs and outputs of the implemented KMS operations, named as on the wire. Inputs were
//! already checked against botocore's model (required members, lengths, enums), so these only type them.

use std::collections::BTreeMap;

use m2sec_proto::json::{Blob, SensitiveBlob, Timestamp};
use serde::{Deserialize, Serialize};

pub type EncryptionContext = BTreeMap<String, String>;

#[derive(Debug, Deserialize, Serialize, Clone, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    pub tag_key: String,
    pub tag_value: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateKeyRequest {
    pub policy: Option<String>,
    pub description: Option<String>,
    pub key_usage: Option<String>,
    pub customer_master_key_spec: Option<String>,
    pub key_spec: Option<String>,
    pub origin: Option<String>,
    pub custom_key_store_id: Option<String>,
    #[serde(default)]
    pub bypass_policy_lockout_safety_check: bool,
    #[serde(default)]
    pub tags: Vec<Tag>,
    pub multi_region: Option<bool>,
    pub xks_key_id: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyMetadata {
    #[serde(rename = "AWSAccountId")]
    pub aws_account_id: String,
    pub key_id: String,
    pub arn: String,
    pub creation_date: Timestamp,
    pub enabled: bool,
    pub description: String,
    pub key_usage: String,
    pub key_state: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deletion_date: Option<Timestamp>,
    pub origin: String,
    pub key_manager: String,
    pub customer_master_key_spec: String,
    pub key_spec: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_key_material_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption_algorithms: Option<&'static [&'static str]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signing_algorithms: Option<&'static [&'static str]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mac_algorithms: Option<&'static [&'static str]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_agreement_algorithms: Option<&'static [&'static str]>,
    pub multi_region: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub multi_region_configuration: Option<MultiRegionConfiguration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiration_model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_to: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending_deletion_window_in_days: Option<i64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct MultiRegionConfiguration {
    pub multi_region_key_type: &'static str,
    pub primary_key: MultiRegionKey,
    pub replica_keys: Vec<MultiRegionKey>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct MultiRegionKey {
    pub arn: String,
    pub region: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyMetadataResponse {
    pub key_metadata: KeyMetadata,
}

/// Operations that take only a key (and maybe grant tokens).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyIdRequest {
    pub key_id: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyIdResponse {
    pub key_id: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListRequest {
    pub limit: Option<u32>,
    pub marker: Option<String>,
    pub key_id: Option<String>,
    /// ListKeyRotations: `ROTATIONS_ONLY` (default) or `ALL_KEY_MATERIAL`.
    pub include_key_material: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyListEntry {
    pub key_id: String,
    pub key_arn: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListKeysResponse {
    pub keys: Vec<KeyListEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
    pub truncated: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateKeyDescriptionRequest {
    pub key_id: String,
    pub description: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ScheduleKeyDeletionRequest {
    pub key_id: String,
    pub pending_window_in_days: Option<i64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ScheduleKeyDeletionResponse {
    pub key_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deletion_date: Option<Timestamp>,
    pub key_state: String,
    pub pending_window_in_days: i64,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AliasRequest {
    pub alias_name: String,
    pub target_key_id: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AliasListEntry {
    pub alias_name: String,
    pub alias_arn: String,
    pub target_key_id: String,
    pub creation_date: Timestamp,
    pub last_updated_date: Timestamp,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListAliasesResponse {
    pub aliases: Vec<AliasListEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
    pub truncated: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EncryptRequest {
    pub key_id: String,
    pub plaintext: SensitiveBlob,
    #[serde(default)]
    pub encryption_context: EncryptionContext,
    pub encryption_algorithm: Option<String>,
    pub dry_run: Option<bool>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EncryptResponse {
    pub ciphertext_blob: Blob,
    pub key_id: String,
    pub encryption_algorithm: &'static str,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DecryptRequest {
    pub ciphertext_blob: Blob,
    #[serde(default)]
    pub encryption_context: EncryptionContext,
    pub key_id: Option<String>,
    pub encryption_algorithm: Option<String>,
    pub recipient: Option<serde_json::Value>,
    pub dry_run: Option<bool>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DecryptResponse {
    pub key_id: String,
    pub plaintext: SensitiveBlob,
    pub encryption_algorithm: &'static str,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateDataKeyRequest {
    pub key_id: String,
    #[serde(default)]
    pub encryption_context: EncryptionContext,
    pub number_of_bytes: Option<usize>,
    pub key_spec: Option<String>,
    pub recipient: Option<serde_json::Value>,
    pub dry_run: Option<bool>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateDataKeyResponse {
    pub ciphertext_blob: Blob,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plaintext: Option<SensitiveBlob>,
    pub key_id: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReEncryptRequest {
    pub ciphertext_blob: Blob,
    #[serde(default)]
    pub source_encryption_context: EncryptionContext,
    pub source_key_id: Option<String>,
    pub destination_key_id: String,
    #[serde(default)]
    pub destination_encryption_context: EncryptionContext,
    pub source_encryption_algorithm: Option<String>,
    pub destination_encryption_algorithm: Option<String>,
    pub dry_run: Option<bool>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReEncryptResponse {
    pub ciphertext_blob: Blob,
    pub source_key_id: String,
    pub key_id: String,
    pub source_encryption_algorithm: &'static str,
    pub destination_encryption_algorithm: &'static str,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateRandomRequest {
    pub number_of_bytes: Option<usize>,
    pub custom_key_store_id: Option<String>,
    pub recipient: Option<serde_json::Value>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateRandomResponse {
    pub plaintext: SensitiveBlob,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EnableKeyRotationRequest {
    pub key_id: String,
    pub rotation_period_in_days: Option<i64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetKeyRotationStatusResponse {
    pub key_rotation_enabled: bool,
    pub key_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotation_period_in_days: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_rotation_date: Option<Timestamp>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RotationsListEntry {
    pub key_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_material_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_material_state: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub import_state: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiration_model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_to: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotation_date: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotation_type: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListKeyRotationsResponse {
    pub rotations: Vec<RotationsListEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
    pub truncated: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagResourceRequest {
    pub key_id: String,
    pub tags: Vec<Tag>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UntagResourceRequest {
    pub key_id: String,
    pub tag_keys: Vec<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListResourceTagsResponse {
    pub tags: Vec<Tag>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
    pub truncated: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyPolicyRequest {
    pub key_id: String,
    pub policy_name: Option<String>,
    pub policy: Option<String>,
    #[serde(default)]
    pub bypass_policy_lockout_safety_check: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetKeyPolicyResponse {
    pub policy: String,
    pub policy_name: &'static str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListKeyPoliciesResponse {
    pub policy_names: Vec<&'static str>,
    pub truncated: bool,
}

/// Operations whose output has no members.
#[derive(Debug, Serialize)]
pub struct Empty {}

// --- Asymmetric keys: Sign, Verify, GetPublicKey, DeriveSharedSecret ---------------------------

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SignRequest {
    pub key_id: String,
    pub message: SensitiveBlob,
    pub message_type: Option<String>,
    pub signing_algorithm: String,
    pub dry_run: Option<bool>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SignResponse {
    pub key_id: String,
    pub signature: Blob,
    pub signing_algorithm: &'static str,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VerifyRequest {
    pub key_id: String,
    pub message: SensitiveBlob,
    pub message_type: Option<String>,
    pub signature: Blob,
    pub signing_algorithm: String,
    pub dry_run: Option<bool>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct VerifyResponse {
    pub key_id: String,
    pub signature_valid: bool,
    pub signing_algorithm: &'static str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetPublicKeyResponse {
    pub key_id: String,
    pub public_key: Blob,
    pub customer_master_key_spec: String,
    pub key_spec: String,
    pub key_usage: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption_algorithms: Option<&'static [&'static str]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signing_algorithms: Option<&'static [&'static str]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_agreement_algorithms: Option<&'static [&'static str]>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeriveSharedSecretRequest {
    pub key_id: String,
    pub key_agreement_algorithm: String,
    pub public_key: Blob,
    pub recipient: Option<serde_json::Value>,
    pub dry_run: Option<bool>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeriveSharedSecretResponse {
    pub key_id: String,
    pub shared_secret: SensitiveBlob,
    pub key_agreement_algorithm: &'static str,
    pub key_origin: String,
}

// --- HMAC keys ----------------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateMacRequest {
    pub key_id: String,
    pub message: SensitiveBlob,
    pub mac_algorithm: String,
    pub dry_run: Option<bool>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateMacResponse {
    pub key_id: String,
    pub mac: Blob,
    pub mac_algorithm: &'static str,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VerifyMacRequest {
    pub key_id: String,
    pub message: SensitiveBlob,
    pub mac: Blob,
    pub mac_algorithm: String,
    pub dry_run: Option<bool>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct VerifyMacResponse {
    pub key_id: String,
    pub mac_valid: bool,
    pub mac_algorithm: &'static str,
}

// --- Data key pairs -----------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateDataKeyPairRequest {
    pub key_id: String,
    pub key_pair_spec: String,
    #[serde(default)]
    pub encryption_context: EncryptionContext,
    pub recipient: Option<serde_json::Value>,
    pub dry_run: Option<bool>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateDataKeyPairResponse {
    pub private_key_ciphertext_blob: Blob,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private_key_plaintext: Option<SensitiveBlob>,
    pub public_key: Blob,
    pub key_id: String,
    pub key_pair_spec: String,
}

// --- Imported key material ----------------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetParametersForImportRequest {
    pub key_id: String,
    pub wrapping_algorithm: String,
    pub wrapping_key_spec: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetParametersForImportResponse {
    pub key_id: String,
    pub import_token: Blob,
    pub public_key: Blob,
    pub parameters_valid_to: Timestamp,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImportKeyMaterialRequest {
    pub key_id: String,
    pub import_token: Blob,
    pub encrypted_key_material: Blob,
    pub valid_to: Option<Timestamp>,
    pub expiration_model: Option<String>,
    pub import_type: Option<String>,
    pub key_material_id: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImportKeyMaterialResponse {
    pub key_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_material_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteImportedKeyMaterialRequest {
    pub key_id: String,
    pub key_material_id: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteImportedKeyMaterialResponse {
    pub key_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_material_id: Option<String>,
}

// --- Multi-Region keys --------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReplicateKeyRequest {
    pub key_id: String,
    pub replica_region: String,
    pub policy: Option<String>,
    #[serde(default)]
    pub bypass_policy_lockout_safety_check: bool,
    pub description: Option<String>,
    #[serde(default)]
    pub tags: Vec<Tag>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReplicateKeyResponse {
    pub replica_key_metadata: KeyMetadata,
    pub replica_policy: String,
    pub replica_tags: Vec<Tag>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdatePrimaryRegionRequest {
    pub key_id: String,
    pub primary_region: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetKeyLastUsageResponse {
    pub key_id: String,
    pub key_creation_date: Timestamp,
    pub tracking_start_date: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_last_usage: Option<KeyLastUsageData>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyLastUsageData {
    pub operation: String,
    pub timestamp: Timestamp,
    pub cloud_trail_event_id: String,
    pub kms_request_id: String,
}
