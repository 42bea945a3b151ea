//! API Gateway: REST APIs with their resources, methods and integrations, deployments and stages,
//! custom domain names with ACM certificates and base path mappings — and (in [`runtime`]) what the
//! edge does with a request for one of them. Handlers are grouped by resource area:
//!
//! | file | operations |
//! |------|------------|
//! | `rest_apis.rs` | CreateRestApi, GetRestApi, GetRestApis, UpdateRestApi, DeleteRestApi |
//! | `resources.rs` | Get/Create/Update/Delete Resource(s); Put/Get/Update/Delete Method and Integration; Put/Get/Delete MethodResponse and IntegrationResponse |
//! | `deployments.rs` | Create/Get/Update/Delete Deployment(s); Create/Get/Update/Delete Stage(s) |
//! | `domain_names.rs` | Create/Get/Update/Delete DomainName(s); Create/Get/Update/Delete BasePathMapping(s) |
//! | `tags.rs` | TagResource, UntagResource, GetTags |
//!
//! `service.rs` holds the service (loading and saving, authorization, the dispatch table),
//! `records.rs` what is stored, `shapes.rs` the typed inputs, `patch.rs` PATCH requests,
//! `operations.rs` the operation list checked against the model and `error.rs` the error enum.

mod deployments;
pub mod domain_names;
pub mod error;
pub mod operations;
mod patch;
pub mod records;
mod resources;
mod rest_apis;
pub mod runtime;
pub mod service;
mod shapes;
mod tags;

pub use service::ApiGateway;
