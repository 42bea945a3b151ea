//! Every service's list of operations, made the same way: [`service_operations!`] declares an enum
//! of every operation of the service's botocore model, each marked implemented or not, and
//! [`check_operations`] (called from each service's tests) fails when the model gains an operation
//! nobody listed, or the list names one the model lacks.

/// `service_operations!(AcmOperation, "acm", { AddTagsToCertificate => true, ... })` declares
/// `AcmOperation` with `ALL`, `from_name`, `name`, `implemented` (the others answer
/// `UnsupportedOperationException`) and `action` (the IAM action, `acm:AddTagsToCertificate`).
#[macro_export]
macro_rules! service_operations {
    ($enum:ident, $prefix:literal, { $($name:ident => $implemented:expr),* $(,)? }) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $enum { $($name),* }

        impl $enum {
            pub const ALL: &'static [$enum] = &[$($enum::$name),*];

            pub fn from_name(name: &str) -> Option<Self> {
                match name { $(stringify!($name) => Some($enum::$name),)* _ => None }
            }

            pub fn name(self) -> &'static str {
                match self { $($enum::$name => stringify!($name)),* }
            }

            /// Whether m2sec implements it; the others answer `UnsupportedOperationException`.
            pub fn implemented(self) -> bool {
                match self { $($enum::$name => $implemented),* }
            }

            /// The IAM action a caller needs.
            pub fn action(self) -> String {
                format!(concat!($prefix, ":{}"), self.name())
            }
        }
    };
}

/// Panics unless `listed` names exactly the operations of `model` (for each service's tests).
pub fn check_operations(model: &crate::model::ServiceModel, listed: &[&str]) {
    let mut from_model: Vec<&str> = model.operation_names().collect();
    from_model.sort_unstable();
    let mut listed: Vec<&str> = listed.to_vec();
    listed.sort_unstable();
    let missing: Vec<_> = from_model.iter().filter(|o| !listed.contains(o)).collect();
    let extra: Vec<_> = listed.iter().filter(|o| !from_model.contains(o)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "operations in the model but not listed: {missing:?}; listed but not in the model: {extra:?}"
    );
}
