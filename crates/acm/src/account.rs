//! The account's ACM configuration: GetAccountConfiguration, PutAccountConfiguration.

use m2sec_proto::{AwsError, RequestContext};

use crate::records::*;
use crate::service::*;
use crate::shapes::*;

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
        _input: serde::de::IgnoredAny,
    ) -> Result<GetAccountConfigurationResponse, AwsError> {
        Ok(GetAccountConfigurationResponse {
            expiry_events: ExpiryEvents {
                days_before_expiry: Some(self.account_configuration(ctx).await?),
            },
        })
    }

    /// PutAccountConfiguration.
    pub(crate) async fn put_account_configuration(
        &self,
        ctx: &RequestContext,
        input: PutAccountConfigurationRequest,
    ) -> Result<Empty, AwsError> {
        if let Some(days) = input.expiry_events.days_before_expiry {
            self.store
                .put_setting(
                    &format!("{SETTINGS}.{}.{}", ctx.account, ctx.region),
                    &days.to_string(),
                )
                .await
                .map_err(store_error)?;
        }
        Ok(Empty {})
    }
}
