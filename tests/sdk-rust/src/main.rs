//! One scenario over KMS, SSM, STS and CloudTrail with the AWS SDK for Rust against m2sec — the same one as
//! tests/sdk-js/run.mjs. The endpoint comes from AWS_ENDPOINT_URL (read by aws-config itself, and also set
//! explicitly), credentials and Region from the usual AWS_* variables. Prints one JSON summary line on
//! success; on the first mismatch prints what was expected and what came back, and exits 1.

use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{DataKeySpec, EncryptionAlgorithmSpec, KeyMetadata, KeySpec, KeyState, KeyUsageType};
use aws_sdk_ssm::types::{ParameterTier, ParameterType};
use m2sec_e2e_sdk_rust::{check, expect_error, failed, report, run_name, sdk_config, Check};
use serde_json::{json, Value};

struct Clients {
    kms: aws_sdk_kms::Client,
    ssm: aws_sdk_ssm::Client,
    sts: aws_sdk_sts::Client,
    cloudtrail: aws_sdk_cloudtrail::Client,
    region: String,
    run: String,
}

async fn clients() -> Check<Clients> {
    let config = sdk_config().await?;
    let region = config.region().map(|r| r.to_string()).unwrap_or_default();
    Ok(Clients {
        kms: aws_sdk_kms::Client::new(&config),
        ssm: aws_sdk_ssm::Client::new(&config),
        sts: aws_sdk_sts::Client::new(&config),
        cloudtrail: aws_sdk_cloudtrail::Client::new(&config),
        region,
        run: run_name()?,
    })
}

async fn kms_scenario(c: &Clients) -> Check<(KeyMetadata, String, Value)> {
    let kms = &c.kms;
    let created =
        kms.create_key().description(format!("sdk-rust {}", c.run)).send().await.map_err(failed("CreateKey"))?;
    let key = created.key_metadata().ok_or("CreateKey returned no KeyMetadata")?.clone();
    let (key_id, arn) = (key.key_id().to_owned(), key.arn().unwrap_or_default().to_owned());
    check!(key_id.len() == 36, "CreateKey KeyId", key_id);
    check!(
        arn.ends_with(&format!(":key/{key_id}")) && arn.contains(&format!(":kms:{}:", c.region)),
        "CreateKey Arn",
        arn
    );
    check!(key.key_state() == Some(&KeyState::Enabled) && key.enabled(), "CreateKey KeyState", key);
    check!(key.key_spec() == Some(&KeySpec::SymmetricDefault), "CreateKey KeySpec", key.key_spec());
    check!(key.key_usage() == Some(&KeyUsageType::EncryptDecrypt), "CreateKey KeyUsage", key.key_usage());
    check!(
        key.creation_date().is_some_and(|d| d.secs() > 1_600_000_000),
        "CreateKey CreationDate",
        key.creation_date()
    );

    let alias = format!("alias/sdk-rust-{}", c.run);
    kms.create_alias().alias_name(&alias).target_key_id(&key_id).send().await.map_err(failed("CreateAlias"))?;

    let plaintext = format!("hello from the Rust SDK {}", c.run).into_bytes();
    let encrypted = kms
        .encrypt()
        .key_id(&alias)
        .plaintext(Blob::new(plaintext.clone()))
        .encryption_context("purpose", "sdk-e2e")
        .encryption_context("sdk", "rust")
        .send()
        .await
        .map_err(failed("Encrypt"))?;
    check!(encrypted.key_id() == Some(arn.as_str()), "Encrypt KeyId", encrypted.key_id());
    check!(
        encrypted.encryption_algorithm() == Some(&EncryptionAlgorithmSpec::SymmetricDefault),
        "Encrypt EncryptionAlgorithm",
        encrypted.encryption_algorithm()
    );
    let blob = encrypted.ciphertext_blob().ok_or("Encrypt returned no CiphertextBlob")?.clone();
    check!(blob.as_ref().len() > plaintext.len(), "Encrypt CiphertextBlob length", blob.as_ref().len());
    let decrypted = kms
        .decrypt()
        .ciphertext_blob(blob.clone())
        .encryption_context("purpose", "sdk-e2e")
        .encryption_context("sdk", "rust")
        .send()
        .await
        .map_err(failed("Decrypt"))?;
    check!(
        decrypted.plaintext().map(|p| p.as_ref()) == Some(&plaintext[..]),
        "Decrypt Plaintext",
        decrypted.plaintext()
    );
    check!(decrypted.key_id() == Some(arn.as_str()), "Decrypt KeyId", decrypted.key_id());
    let wrong_context = expect_error(
        kms.decrypt()
            .ciphertext_blob(blob)
            .encryption_context("purpose", "sdk-e2e")
            .encryption_context("sdk", "other")
            .send()
            .await,
        "InvalidCiphertextException",
        400,
        |e| e.is_invalid_ciphertext_exception(),
    )?;

    let data_key = kms
        .generate_data_key()
        .key_id(&key_id)
        .key_spec(DataKeySpec::Aes256)
        .encryption_context("purpose", "sdk-e2e")
        .send()
        .await
        .map_err(failed("GenerateDataKey"))?;
    let data_key_plaintext = data_key.plaintext().ok_or("GenerateDataKey returned no Plaintext")?.as_ref().to_vec();
    check!(data_key_plaintext.len() == 32, "GenerateDataKey Plaintext length", data_key_plaintext.len());
    check!(data_key.key_id() == Some(arn.as_str()), "GenerateDataKey KeyId", data_key.key_id());
    let reopened = kms
        .decrypt()
        .ciphertext_blob(data_key.ciphertext_blob().ok_or("GenerateDataKey returned no CiphertextBlob")?.clone())
        .encryption_context("purpose", "sdk-e2e")
        .send()
        .await
        .map_err(failed("Decrypt of the data key"))?;
    check!(
        reopened.plaintext().map(|p| p.as_ref()) == Some(&data_key_plaintext[..]),
        "GenerateDataKey CiphertextBlob decrypts to its Plaintext",
        reopened.plaintext()
    );

    // Two more keys so that pages of one key make at least three pages.
    let mut others = Vec::new();
    for i in 1..=2 {
        let out = kms
            .create_key()
            .description(format!("sdk-rust {} {i}", c.run))
            .send()
            .await
            .map_err(failed("CreateKey"))?;
        others.push(out.key_metadata().ok_or("CreateKey returned no KeyMetadata")?.key_id().to_owned());
    }
    let (mut listed, mut pages) = (Vec::new(), 0);
    let mut paginator = kms.list_keys().limit(1).into_paginator().send();
    while let Some(page) = paginator.next().await {
        let page = page.map_err(failed("ListKeys"))?;
        pages += 1;
        check!(page.keys().len() <= 1, "ListKeys page size", page.keys().len());
        listed.extend(page.keys().iter().filter_map(|k| k.key_id().map(str::to_owned)));
        check!(pages <= 10_000, "ListKeys pagination ends", pages);
    }
    for id in std::iter::once(&key_id).chain(&others) {
        check!(listed.contains(id), format!("ListKeys lists {id}"), listed);
    }
    let mut unique = listed.clone();
    unique.sort();
    unique.dedup();
    check!(unique.len() == listed.len(), "ListKeys lists each key once", listed);
    check!(pages >= 3, "ListKeys pages", pages);

    let missing_id = format!("00000000-0000-4000-8000-0000{}", c.run);
    let missing = expect_error(kms.describe_key().key_id(missing_id).send().await, "NotFoundException", 400, |e| {
        e.is_not_found_exception()
    })?;
    kms.disable_key().key_id(&others[0]).send().await.map_err(failed("DisableKey"))?;
    let disabled = expect_error(
        kms.encrypt().key_id(&others[0]).plaintext(Blob::new(plaintext)).send().await,
        "DisabledException",
        400,
        |e| e.is_disabled_exception(),
    )?;

    let summary = json!({
        "keyId": key_id, "keyArn": arn, "alias": alias, "dataKeyBytes": data_key_plaintext.len(),
        "listKeys": { "pages": pages, "keys": listed.len() },
        "errors": { "missingKey": missing, "disabledKey": disabled, "wrongContext": wrong_context },
    });
    Ok((key, alias, summary))
}

async fn ssm_scenario(c: &Clients, alias: &str) -> Check<Value> {
    let ssm = &c.ssm;
    let prefix = format!("/sdk-rust/{}", c.run);
    let secret = format!("s3cret-{}", c.run);
    let name = format!("{prefix}/secret");
    let put = ssm
        .put_parameter()
        .name(&name)
        .value(&secret)
        .r#type(ParameterType::SecureString)
        .key_id(alias)
        .send()
        .await
        .map_err(failed("PutParameter"))?;
    check!(put.version() == 1, "PutParameter Version", put.version());
    check!(put.tier() == Some(&ParameterTier::Standard), "PutParameter Tier", put.tier());
    let got = ssm.get_parameter().name(&name).with_decryption(true).send().await.map_err(failed("GetParameter"))?;
    let got = got.parameter().ok_or("GetParameter returned no Parameter")?;
    check!(got.value() == Some(secret.as_str()), "GetParameter WithDecryption Value", got.value());
    check!(
        got.r#type() == Some(&ParameterType::SecureString) && got.version() == 1,
        "GetParameter Type and Version",
        got
    );
    check!(got.last_modified_date().is_some(), "GetParameter LastModifiedDate", got);
    check!(got.arn().is_some_and(|a| a.ends_with(&format!(":parameter{name}"))), "GetParameter ARN", got.arn());
    let sealed = ssm.get_parameter().name(&name).send().await.map_err(failed("GetParameter"))?;
    let sealed_value = sealed.parameter().and_then(|p| p.value()).unwrap_or_default();
    check!(
        sealed_value != secret && !sealed_value.is_empty(),
        "GetParameter without decryption hides the value",
        sealed_value
    );

    let mut names = Vec::new();
    for i in 0..5 {
        let n = format!("{prefix}/tree/{}/p{i}", if i % 2 == 1 { "odd" } else { "even" });
        ssm.put_parameter()
            .name(&n)
            .value(format!("v{i}"))
            .r#type(ParameterType::String)
            .send()
            .await
            .map_err(failed("PutParameter"))?;
        names.push(n);
    }
    let (mut found, mut pages) = (Vec::new(), 0);
    let mut paginator = ssm
        .get_parameters_by_path()
        .path(format!("{prefix}/tree"))
        .recursive(true)
        .max_results(2)
        .into_paginator()
        .send();
    while let Some(page) = paginator.next().await {
        let page = page.map_err(failed("GetParametersByPath"))?;
        pages += 1;
        check!(page.parameters().len() <= 2, "GetParametersByPath page size", page.parameters().len());
        found.extend(
            page.parameters()
                .iter()
                .map(|p| (p.name().unwrap_or_default().to_owned(), p.value().unwrap_or_default().to_owned())),
        );
        check!(pages <= 100, "GetParametersByPath pagination ends", pages);
    }
    let mut found_names: Vec<_> = found.iter().map(|(n, _)| n.clone()).collect();
    found_names.sort();
    let mut expected = names.clone();
    expected.sort();
    check!(found_names == expected, "GetParametersByPath names", found);
    let values_match =
        found.iter().all(|(n, v)| names.iter().position(|m| m == n).is_some_and(|i| *v == format!("v{i}")));
    check!(values_match, "GetParametersByPath values", found);
    check!(pages >= 3, "GetParametersByPath pages", pages);

    let not_found = expect_error(
        ssm.get_parameter().name(format!("{prefix}/not-there")).send().await,
        "ParameterNotFound",
        400,
        |e| e.is_parameter_not_found(),
    )?;
    Ok(json!({
        "parameterVersion": put.version(),
        "byPath": { "pages": pages, "parameters": found.len() },
        "errors": { "missingParameter": not_found },
    }))
}

async fn sts_scenario(c: &Clients) -> Check<Value> {
    let me = c.sts.get_caller_identity().send().await.map_err(failed("GetCallerIdentity"))?;
    let account = me.account().unwrap_or_default();
    check!(account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()), "GetCallerIdentity Account", account);
    let arn = me.arn().unwrap_or_default();
    check!(
        arn.starts_with(&format!("arn:aws:iam::{account}:")) || arn.starts_with(&format!("arn:aws:sts::{account}:")),
        "GetCallerIdentity Arn",
        arn
    );
    check!(me.user_id().is_some_and(|u| !u.is_empty()), "GetCallerIdentity UserId", me.user_id());
    Ok(json!({ "account": account, "arn": arn, "userId": me.user_id() }))
}

async fn cloudtrail_scenario(c: &Clients, key: &KeyMetadata) -> Check<Value> {
    let arn = key.arn().unwrap_or_default();
    let by_resource = LookupAttribute::builder()
        .attribute_key(LookupAttributeKey::ResourceName)
        .attribute_value(arn)
        .build()
        .map_err(|e| e.to_string())?;
    let out = c
        .cloudtrail
        .lookup_events()
        .lookup_attributes(by_resource)
        .max_results(50)
        .send()
        .await
        .map_err(failed("LookupEvents"))?;
    let created: Vec<_> = out.events().iter().filter(|e| e.event_name() == Some("CreateKey")).collect();
    let names: Vec<_> = out.events().iter().map(|e| e.event_name()).collect();
    check!(created.len() == 1, "LookupEvents by ResourceName finds the CreateKey event", names);
    let event = created[0];
    check!(event.event_source() == Some("kms.amazonaws.com"), "CreateKey event EventSource", event.event_source());
    check!(
        event.event_time().is_some_and(|t| t.secs() > 1_600_000_000),
        "CreateKey event EventTime",
        event.event_time()
    );
    check!(
        event.resources().iter().any(|r| r.resource_name() == Some(arn)),
        "CreateKey event Resources",
        event.resources()
    );
    let record: Value = serde_json::from_str(event.cloud_trail_event().unwrap_or_default())
        .map_err(|e| format!("CloudTrailEvent is not JSON: {e}"))?;
    check!(
        record["eventName"] == "CreateKey" && record["responseElements"]["keyMetadata"]["keyId"] == key.key_id(),
        "CreateKey record",
        record
    );

    let by_name = LookupAttribute::builder()
        .attribute_key(LookupAttributeKey::EventName)
        .attribute_value("CreateKey")
        .build()
        .map_err(|e| e.to_string())?;
    let out = c.cloudtrail.lookup_events().lookup_attributes(by_name).send().await.map_err(failed("LookupEvents"))?;
    let names: Vec<_> = out.events().iter().map(|e| e.event_name()).collect();
    check!(
        out.events().len() >= 3 && names.iter().all(|n| *n == Some("CreateKey")),
        "LookupEvents by EventName",
        names
    );
    check!(
        out.events().iter().any(|e| e.event_id() == event.event_id()),
        "LookupEvents by EventName finds the event",
        out.events().iter().map(|e| e.event_id()).collect::<Vec<_>>()
    );
    Ok(json!({ "createKeyEventId": event.event_id(), "createKeyEvents": out.events().len() }))
}

async fn scenario() -> Check<Value> {
    let c = clients().await?;
    let (key, alias, kms) = kms_scenario(&c).await?;
    Ok(json!({
        "sdk": "aws-sdk-rust",
        "kms": kms,
        "ssm": ssm_scenario(&c, &alias).await?,
        "sts": sts_scenario(&c).await?,
        "cloudtrail": cloudtrail_scenario(&c, &key).await?,
    }))
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    report(scenario().await);
}
