//! The functions `m2sec deploy` registers: one document each (kind `function`, in the function's
//! account and Region), run by the built-in handlers of [`m2sec_gates`] when an AWS_PROXY
//! integration names them. Lookups are cached for a few seconds, so a redeploy on another node
//! sharing the store is seen within that time.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use m2sec_apigateway::runtime::lambda::FunctionInvoker;
use m2sec_deploy::{plan, DeployError};
use m2sec_gates::{Function, Gates};
use m2sec_store::{Document, Store};
use serde_json::Value;

const KIND: &str = "function";
const CACHE_FOR: Duration = Duration::from_secs(5);

/// A function (or its absence) as looked up at a moment.
type Looked = (Instant, Option<Arc<Function>>);

pub struct FunctionRegistry {
    store: Arc<dyn Store>,
    gates: Arc<Gates>,
    cache: Mutex<HashMap<String, Looked>>,
}

/// A function's stored form: the function and the deployment it belongs to.
#[derive(serde::Serialize, serde::Deserialize)]
struct Stored {
    service: String,
    stage: String,
    function: Function,
}

/// `arn:aws:lambda:REGION:ACCOUNT:function:NAME` → (region, account, name).
fn parse_arn(arn: &str) -> Option<(&str, &str, &str)> {
    let rest = arn.strip_prefix("arn:aws:lambda:")?;
    let mut parts = rest.splitn(4, ':');
    let region = parts.next()?;
    let account = parts.next()?;
    let name = parts
        .next()
        .filter(|k| *k == "function")
        .and(parts.next())?;
    Some((region, account, name.split(':').next()?))
}

impl FunctionRegistry {
    pub fn new(store: Arc<dyn Store>, gates: Arc<Gates>) -> Self {
        FunctionRegistry {
            store,
            gates,
            cache: Mutex::new(HashMap::new()),
        }
    }

    pub fn handlers(&self) -> Vec<String> {
        Gates::HANDLERS.iter().map(|h| h.to_string()).collect()
    }

    async fn lookup(&self, arn: &str) -> Option<Arc<Function>> {
        if let Some((at, f)) = self.cache.lock().expect("function cache").get(arn) {
            if at.elapsed() < CACHE_FOR {
                return f.clone();
            }
        }
        let (region, account, name) = parse_arn(arn)?;
        let found = match self.store.get_document(account, region, KIND, name).await {
            Ok(doc) => doc
                .and_then(|d| serde_json::from_str::<Stored>(&d.body).ok())
                .map(|s| Arc::new(s.function)),
            Err(e) => {
                tracing::warn!(function = arn, error = %e, "the function could not be read");
                return None;
            }
        };
        let mut cache = self.cache.lock().expect("function cache");
        if cache.len() > 10_000 {
            cache.clear();
        }
        cache.insert(arn.to_string(), (Instant::now(), found.clone()));
        found
    }

    /// Makes `functions` those of the plan's service and stage.
    pub async fn put(
        &self,
        plan: &plan::Plan,
        functions: &[plan::Function],
    ) -> Result<(), DeployError> {
        let (account, region) = (plan.account.as_str(), plan.region.as_str());
        let failed = |e: m2sec_store::StoreError| DeployError::Host(format!("functions: {e}"));
        let role_arn = format!("arn:aws:iam::{account}:role/{}", plan.role.name);
        for f in functions {
            let stored = Stored {
                service: plan.service.clone(),
                stage: plan.stage.clone(),
                function: Function {
                    name: f.name.clone(),
                    handler: f.handler.clone(),
                    role_arn: role_arn.clone(),
                    account: account.into(),
                    region: region.into(),
                    environment: f.environment.clone(),
                    secrets: f.secrets.clone(),
                },
            };
            let doc = Document {
                account: account.into(),
                region: region.into(),
                kind: KIND.into(),
                name: f.name.clone(),
                body: serde_json::to_string(&stored).expect("a function serializes"),
                updated_at: chrono::Utc::now().timestamp_millis(),
            };
            self.store.put_document(&doc, false).await.map_err(failed)?;
        }
        for doc in self
            .store
            .list_documents(account, region, KIND)
            .await
            .map_err(failed)?
        {
            let Ok(stored) = serde_json::from_str::<Stored>(&doc.body) else {
                continue;
            };
            let ours = stored.service == plan.service && stored.stage == plan.stage;
            if ours && !functions.iter().any(|f| f.name == doc.name) {
                self.store
                    .delete_document(account, region, KIND, &doc.name)
                    .await
                    .map_err(failed)?;
            }
        }
        self.cache.lock().expect("function cache").clear();
        Ok(())
    }
}

#[async_trait]
impl FunctionInvoker for FunctionRegistry {
    async fn invoke(&self, function_arn: &str, event: Value) -> Option<Value> {
        let function = self.lookup(function_arn).await?;
        Some(self.gates.invoke(&function, event).await)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn function_arns_parse() {
        assert_eq!(
            super::parse_arn("arn:aws:lambda:eu-west-1:000000000000:function:f-prod-login"),
            Some(("eu-west-1", "000000000000", "f-prod-login"))
        );
        assert_eq!(
            super::parse_arn("arn:aws:lambda:eu-west-1:000000000000:function:f:live"),
            Some(("eu-west-1", "000000000000", "f"))
        );
        assert_eq!(
            super::parse_arn("arn:aws:lambda:eu-west-1:000000000000:layer:x"),
            None
        );
    }
}
