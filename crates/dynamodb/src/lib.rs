//! DynamoDB's pure parts: the data model and the expression language, with no I/O, no HTTP and no
//! storage, so the service can be built around them and the parser can be fuzzed on its own.
//!
//! | module | what it holds |
//! |--------|---------------|
//! | `item` | `AttributeValue` and its wire JSON, `Number` (38-digit decimals), item size, order-preserving key bytes |
//! | `expression` | Condition, Filter, KeyCondition, Update and Projection expressions: parsing, validation, evaluation |

pub mod expression;
pub mod item;
