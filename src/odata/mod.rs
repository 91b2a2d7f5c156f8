//! OData query options: `$filter`, `$select`, `$orderby`, `$top`, `$skip`,
//! `$count`, `$search` and skip tokens.

pub mod filter;
pub mod lexer;
pub mod query;
pub mod skip_token;
pub mod translate;
