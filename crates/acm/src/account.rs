//! The account's ACM configuration: GetAccountConfiguration, PutAccountConfiguration.

use m2sec_proto::{AwsError, RequestContext};
use serde_json::{json, Value};

use crate::records::*;
use crate::service::*;

impl Acm {
    pub(crate) async fn account_configuration(
        &self,
        ctx: &RequestContext,
    ) -> Result<i64, AwsError> {
        Ok(self
            .store
            .get_setting(&format!("{SETTINGS}.{}.{}", ctx.account, ctx.region))
            .await
            .map_err(store_error)?
            .and_then(|v| v.parse().ok())
            .unwrap_or(45))
    }

    /// GetAccountConfiguration.
    pub(crate) async fn get_account_configuration(
        &self,
        ctx: &RequestContext,
    ) -> Result<Value, AwsError> {
        Ok(
            json!({ "ExpiryEvents": { "DaysBeforeExpiry": self.account_configuration(ctx).await? } }),
        )
    }

    /// PutAccountConfiguration.
    pub(crate) async fn put_account_configuration(
        &self,
        ctx: &RequestContext,
        input: &Value,
    ) -> Result<Value, AwsError> {
        if let Some(days) = input
            .get("ExpiryEvents")
            .and_then(|e| e.get("DaysBeforeExpiry"))
            .and_then(Value::as_i64)
        {
            self.store
                .put_setting(
                    &format!("{SETTINGS}.{}.{}", ctx.account, ctx.region),
                    &days.to_string(),
                )
                .await
                .map_err(store_error)?;
        }
        Ok(json!({}))
    }
}
