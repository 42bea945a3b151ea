//! Hosted zones: CreateHostedZone, GetHostedZone, ListHostedZones, ListHostedZonesByName,
//! DeleteHostedZone, GetHostedZoneCount, UpdateHostedZoneComment.

use m2sec_proto::{AwsError, RequestContext};
use m2sec_store::now_ms;

use crate::error::Route53Error;
use crate::names::{normalize, sort_key};
use crate::service::*;
use crate::shapes::*;
use crate::store as zones;
use crate::zone::Zone;

impl Route53 {
    pub(crate) async fn create_hosted_zone(
        &self,
        ctx: &RequestContext,
        input: CreateHostedZoneRequest,
    ) -> Result<CreateHostedZoneResponse, AwsError> {
        let name = normalize(&input.name)
            .map_err(|e| AwsError::from(Route53Error::InvalidDomainName(e)))?;
        if name == "." {
            return Err(AwsError::from(Route53Error::InvalidDomainName(
                "The root zone cannot be created".into(),
            )));
        }
        let reference = input.caller_reference;
        let config = input.hosted_zone_config.unwrap_or_default();
        let private = config.private_zone || input.vpc.is_some();
        let _guard = self.writes.lock().await;
        let existing = zones::list(self.store.as_ref(), &ctx.account)
            .await
            .map_err(store_error)?;
        if let Some(z) = existing.iter().find(|z| z.caller_reference == reference) {
            return Err(AwsError::from(Route53Error::HostedZoneAlreadyExists(format!("A hosted zone has already been created with the specified caller reference ({}: {})", z.id, z.name))));
        }
        let servers: Vec<String> = NAME_SERVERS.iter().map(|s| s.to_string()).collect();
        let zone = Zone::new(
            &new_id('Z'),
            &name,
            &reference,
            config.comment,
            private,
            now_ms(),
            &servers,
        );
        self.save(ctx, &zone, true).await?;
        let change = self.change_info(ctx, None).await?;
        self.wake();
        Ok(CreateHostedZoneResponse {
            hosted_zone: HostedZone::from(&zone),
            change_info: change,
            delegation_set: DelegationSet::m2sec(),
            location: format!(
                "https://route53.amazonaws.com/2013-04-01/hostedzone/{}",
                zone.id
            ),
        })
    }

    pub(crate) async fn get_hosted_zone(
        &self,
        ctx: &RequestContext,
        input: IdRequest,
    ) -> Result<GetHostedZoneResponse, AwsError> {
        let zone = self.zone(ctx, &input.id).await?;
        Ok(GetHostedZoneResponse {
            hosted_zone: HostedZone::from(&zone),
            delegation_set: DelegationSet::m2sec(),
        })
    }

    pub(crate) async fn list_hosted_zones(
        &self,
        ctx: &RequestContext,
        input: ListHostedZonesRequest,
    ) -> Result<ListHostedZonesResponse, AwsError> {
        let max = max_items(input.max_items.as_deref(), MAX_ITEMS)?;
        let all = zones::list(self.store.as_ref(), &ctx.account)
            .await
            .map_err(store_error)?;
        let marker = input.marker.as_deref().map(bare_zone_id);
        let start = match marker {
            Some(m) => all.iter().position(|z| z.id.as_str() == m).ok_or_else(|| {
                AwsError::from(Route53Error::InvalidInput(format!(
                    "The marker {m} is not a hosted zone id"
                )))
            })?,
            None => 0,
        };
        let page: Vec<&Zone> = all.iter().skip(start).take(max).collect();
        let next = all.get(start + page.len());
        Ok(ListHostedZonesResponse {
            hosted_zones: page.into_iter().map(HostedZone::from).collect(),
            marker: marker.unwrap_or("").to_string(),
            is_truncated: next.is_some(),
            max_items: max.to_string(),
            next_marker: next.map(|n| n.id.clone()),
        })
    }

    pub(crate) async fn list_hosted_zones_by_name(
        &self,
        ctx: &RequestContext,
        input: ListHostedZonesByNameRequest,
    ) -> Result<ListHostedZonesByNameResponse, AwsError> {
        let max = max_items(input.max_items.as_deref(), MAX_ITEMS)?;
        let mut all = zones::list(self.store.as_ref(), &ctx.account)
            .await
            .map_err(store_error)?;
        all.sort_by(|a, b| (sort_key(&a.name), &a.id).cmp(&(sort_key(&b.name), &b.id)));
        let from = match input.dns_name.as_deref() {
            Some(n) => {
                Some(normalize(n).map_err(|e| AwsError::from(Route53Error::InvalidDomainName(e)))?)
            }
            None => None,
        };
        let from_id = input.hosted_zone_id.as_deref().map(bare_zone_id);
        let start = match &from {
            Some(name) => {
                let key = sort_key(name);
                all.iter()
                    .position(|z| {
                        let k = sort_key(&z.name);
                        k > key || (k == key && from_id.is_none_or_le(&z.id))
                    })
                    .unwrap_or(all.len())
            }
            None => 0,
        };
        let page: Vec<&Zone> = all.iter().skip(start).take(max).collect();
        let next = all.get(start + page.len());
        Ok(ListHostedZonesByNameResponse {
            hosted_zones: page.into_iter().map(HostedZone::from).collect(),
            dns_name: from,
            hosted_zone_id: from_id.map(str::to_string),
            is_truncated: next.is_some(),
            max_items: max.to_string(),
            next_dns_name: next.map(|n| n.name.clone()),
            next_hosted_zone_id: next.map(|n| n.id.clone()),
        })
    }

    pub(crate) async fn delete_hosted_zone(
        &self,
        ctx: &RequestContext,
        input: IdRequest,
    ) -> Result<ChangeInfoResponse, AwsError> {
        let _guard = self.writes.lock().await;
        let zone = self.zone(ctx, &input.id).await?;
        let apex_only = zone
            .record_sets
            .iter()
            .all(|s| s.name == zone.name && (s.kind == "SOA" || s.kind == "NS"));
        if !apex_only {
            return Err(AwsError::from(Route53Error::HostedZoneNotEmpty("The specified hosted zone contains non-required resource record sets and so cannot be deleted.".into())));
        }
        zones::delete(self.store.as_ref(), &ctx.account, &zone.id)
            .await
            .map_err(store_error)?;
        self.generation.bump();
        let change = self.change_info(ctx, None).await?;
        self.wake();
        Ok(ChangeInfoResponse {
            change_info: change,
        })
    }

    pub(crate) async fn get_hosted_zone_count(
        &self,
        ctx: &RequestContext,
        _input: GetHostedZoneCountRequest,
    ) -> Result<GetHostedZoneCountResponse, AwsError> {
        let all = zones::list(self.store.as_ref(), &ctx.account)
            .await
            .map_err(store_error)?;
        Ok(GetHostedZoneCountResponse {
            hosted_zone_count: all.len(),
        })
    }

    pub(crate) async fn update_hosted_zone_comment(
        &self,
        ctx: &RequestContext,
        input: UpdateHostedZoneCommentRequest,
    ) -> Result<UpdateHostedZoneCommentResponse, AwsError> {
        let _guard = self.writes.lock().await;
        let mut zone = self.zone(ctx, &input.id).await?;
        zone.comment = input.comment;
        self.save(ctx, &zone, false).await?;
        Ok(UpdateHostedZoneCommentResponse {
            hosted_zone: HostedZone::from(&zone),
        })
    }
}
