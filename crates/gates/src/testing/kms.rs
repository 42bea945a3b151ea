//! KMS in the fake: ECC_NIST_P256 SIGN_VERIFY keys (real aws-lc keys, so a signature made by one
//! key never verifies under another), aliases, and `DescribeKey`, `Sign` and `Verify` as the
//! handlers call them, and `GetPublicKey`.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    EcdsaKeyPair, KeyPair, UnparsedPublicKey, ECDSA_P256_SHA256_ASN1,
    ECDSA_P256_SHA256_ASN1_SIGNING,
};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use m2sec_proto::AwsError;
use serde_json::{json, Value};

use super::{Fake, State};

/// A signing key of the fake.
pub struct SigningKey {
    pub key_id: String,
    pub arn: String,
    pair: EcdsaKeyPair,
}

impl Fake {
    /// A new signing key, named by `alias` (`alias/can2025-tickets`) if given; answers its ARN.
    pub fn create_signing_key(&self, alias: Option<&str>) -> String {
        let key_id = m2sec_proto::random_uuid();
        let arn = format!("arn:aws:kms:eu-west-1:000000000000:key/{key_id}");
        let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING).unwrap();
        let mut state = self.0.lock().unwrap();
        state.keys.push(SigningKey {
            key_id,
            arn: arn.clone(),
            pair,
        });
        if let Some(alias) = alias {
            state.aliases.insert(alias.into(), arn.clone());
        }
        arn
    }

    /// A signing key with the key id `id` and, if given, `alias`; its ARN.
    pub fn create_key(&self, id: &str, alias: Option<&str>) -> String {
        let arn = format!("arn:aws:kms:eu-west-1:000000000000:key/{id}");
        let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING).unwrap();
        let mut state = self.0.lock().unwrap();
        state.keys.push(SigningKey {
            key_id: id.into(),
            arn: arn.clone(),
            pair,
        });
        if let Some(alias) = alias {
            state.aliases.insert(alias.into(), arn.clone());
        }
        arn
    }

    /// KMS `Sign` of `message` with `key_id` (a DER signature), without recording a call.
    pub fn sign(&self, key_id: &str, message: &[u8]) -> Vec<u8> {
        let state = self.0.lock().unwrap();
        let key = state.key(key_id).unwrap();
        key.pair
            .sign(&SystemRandom::new(), message)
            .unwrap()
            .as_ref()
            .to_vec()
    }

    /// Points `alias` at the key `arn` (as `UpdateAlias` does).
    pub fn set_alias(&self, alias: &str, arn: &str) {
        let mut state = self.0.lock().unwrap();
        state.aliases.insert(alias.into(), arn.into());
    }

    /// Deletes the key `arn`: it is no longer found.
    pub fn delete_key(&self, arn: &str) {
        self.0.lock().unwrap().keys.retain(|k| k.arn != arn);
    }
}

impl State {
    /// The key a `KeyId` names: a key id, a key ARN, an alias name or an alias ARN.
    fn key(&self, key_id: &str) -> Result<&SigningKey, AwsError> {
        let alias = key_id
            .strip_prefix("arn:aws:kms:eu-west-1:000000000000:")
            .filter(|rest| rest.starts_with("alias/"))
            .unwrap_or(key_id);
        let arn = self.aliases.get(alias).map_or(key_id, String::as_str);
        self.keys
            .iter()
            .find(|k| k.arn == arn || k.key_id == arn)
            .ok_or_else(|| {
                AwsError::new(
                    "NotFoundException",
                    400,
                    format!("Key '{key_id}' does not exist"),
                )
            })
    }

    pub(super) fn describe_key(&self, input: &Value) -> Result<Value, AwsError> {
        let key = self.key(input["KeyId"].as_str().unwrap())?;
        Ok(json!({"KeyMetadata": {
            "KeyId": key.key_id,
            "Arn": key.arn,
            "KeySpec": "ECC_NIST_P256",
            "KeyUsage": "SIGN_VERIFY",
            "Enabled": true,
            "KeyState": "Enabled",
            "SigningAlgorithms": ["ECDSA_SHA_256"],
        }}))
    }

    pub(super) fn get_public_key(&self, input: &Value) -> Result<Value, AwsError> {
        let key = self.key(input["KeyId"].as_str().unwrap())?;
        let der = key.pair.public_key().as_der().unwrap();
        Ok(json!({
            "KeyId": key.arn,
            "PublicKey": STANDARD.encode(der.as_ref()),
            "KeySpec": "ECC_NIST_P256",
            "KeyUsage": "SIGN_VERIFY",
            "SigningAlgorithms": ["ECDSA_SHA_256"],
        }))
    }

    /// The key and message of a `Sign` or `Verify`, checked as KMS would for these keys.
    fn signing_input(&self, input: &Value) -> Result<(&SigningKey, Vec<u8>), AwsError> {
        let key = self.key(input["KeyId"].as_str().unwrap())?;
        assert_eq!(input["MessageType"], "RAW");
        if input["SigningAlgorithm"] != "ECDSA_SHA_256" {
            return Err(AwsError::new(
                "InvalidKeyUsageException",
                400,
                "ECC_NIST_P256 keys sign with ECDSA_SHA_256",
            ));
        }
        let message = STANDARD.decode(input["Message"].as_str().unwrap()).unwrap();
        assert!(
            !message.is_empty() && message.len() <= 4096,
            "KMS takes 1 to 4096 bytes"
        );
        Ok((key, message))
    }

    pub(super) fn sign(&self, input: &Value) -> Result<Value, AwsError> {
        let (key, message) = self.signing_input(input)?;
        let signature = key.pair.sign(&SystemRandom::new(), &message).unwrap();
        Ok(json!({
            "KeyId": key.arn,
            "Signature": STANDARD.encode(signature.as_ref()),
            "SigningAlgorithm": "ECDSA_SHA_256",
        }))
    }

    pub(super) fn verify(&self, input: &Value) -> Result<Value, AwsError> {
        let (key, message) = self.signing_input(input)?;
        let signature = STANDARD
            .decode(input["Signature"].as_str().unwrap())
            .unwrap();
        let public =
            UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, key.pair.public_key().as_ref());
        match public.verify(&message, &signature) {
            Ok(()) => Ok(json!({
                "KeyId": key.arn,
                "SignatureValid": true,
                "SigningAlgorithm": "ECDSA_SHA_256",
            })),
            Err(_) => Err(AwsError::new(
                "KMSInvalidSignatureException",
                400,
                "The signature does not verify",
            )),
        }
    }
}
